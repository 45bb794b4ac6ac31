"""Hostile inputs (issue 12): every bad input is a clean CimgraphError that says where, no number is
computed from a physically meaningless value, and outputs never clobber inputs.

One section per class of the issue, several cases each, then hypothesis properties over every input
format: each input either loads or raises the project's error with its file and a location.
"""
import json
import math
import os
import tracemalloc

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cimgraph import safe_yaml
from cimgraph.accuracy.effects import read_memory_states
from cimgraph.accuracy.options import check_device, check_options, option_value, parse_options
from cimgraph.cli import main
from cimgraph.errors import AccuracyError, CimgraphError, InputError, MappingError, NetlistError, WorkloadError
from cimgraph.mapping import map_network
from cimgraph.netlist import load_netlist
from cimgraph.output import check_outputs, write_text
from cimgraph.schedule import evaluate
from cimgraph.schedule.result import Result
from cimgraph.schedule.sweep import check_keys, parse_sets
from cimgraph.testing import tiny_netlist
from cimgraph.workload import Layer, Network, read_network_csv, read_network_yaml

NET = Network("n", (Layer(name="c", kind="conv", in_channels=8, out_channels=8, kernel=3, padding=1,
                          input_size=(8, 8)),))
SUBARRAY = ("chip", "tile", "pe", "subarray")


def write(tmp_path, name, content):
    path = tmp_path / name
    (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)
    return str(path)


def netlist_problems(tmp_path, text):
    with pytest.raises(NetlistError) as info:
        load_netlist(write(tmp_path, "chip.yaml", text))
    return str(info.value)


def tiny_yaml(**changes):
    raw = tiny_netlist()
    raw.update(changes)
    return yaml.safe_dump(raw, sort_keys=False)


@pytest.fixture(scope="module")
def result_json(tmp_path_factory):
    path = tmp_path_factory.mktemp("result") / "r.json"
    evaluate(map_network(load_netlist(tiny_netlist()), NET)).to_json(path)
    return path.read_text()


# -- class 3: hostile YAML and text ----------------------------------------------------------------

BOMB = "\n".join([f"{c}: &{c} [" + ",".join([f"*{p}"] * 9) + "]" for p, c in zip("abcdefgh", "bcdefghi")])
BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + BOMB + "\nchip: *i\n"


def test_alias_bomb_fails_fast_in_bounded_memory(tmp_path):
    tracemalloc.start()
    message = netlist_problems(tmp_path, BOMB)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert "expands to more than" in message and len(message) < 300
    assert peak < 100e6


@pytest.mark.parametrize("text, fragment", [
    ("a: " + "[" * 100000, "nested deeper than 64 levels"),
    ("a: " + "{b: " * 5000 + "1", "nested deeper than 64 levels"),
    ("- " * 5000 + "x", "nested deeper than 64 levels"),
    ("x: " + "9" * 5000, "an integer of 5000 digits is too large"),
    ("x: &a 1\n" + "".join(f"y{i}: *a\n" for i in range(300)), "more than 256 aliases"),
    ("a: 'open quote\n", "not valid YAML"),
    ("a: !!python/object:os.system ls\n", "not valid YAML"),
    ("a: " + "x" * (2 * 1024 * 1024), "larger than 1024 KiB"),
])
def test_hostile_yaml_is_a_short_error_with_a_place(tmp_path, text, fragment):
    message = netlist_problems(tmp_path, text)
    assert fragment in message and "chip.yaml: " in message and len(message) < 400


def test_duplicate_keys_name_both_lines(tmp_path):
    text = tiny_yaml().replace("technology: 22nm\n", "technology: 22nm\ntechnology: 130nm\n")
    assert "chip.yaml: line 3: duplicate key 'technology' (first given on line 2)" in netlist_problems(tmp_path, text)
    nested = "chip:\n  tile:\n    pes: 2\n    pes: 4\n"
    assert "line 4: duplicate key 'pes' (first given on line 3)" in netlist_problems(tmp_path, nested)


@pytest.mark.parametrize("reader, suffix", [
    (load_netlist, ".yaml"), (read_network_csv, ".csv"), (read_network_yaml, ".yaml"), (read_memory_states, ".csv")])
def test_non_utf8_files_are_clean_errors_naming_line_and_column(tmp_path, reader, suffix):
    path = write(tmp_path, "latin1" + suffix, "name: caf".encode() + b"\xe9\nx: 1\n")
    with pytest.raises(CimgraphError) as info:
        reader(path)
    assert path in str(info.value) and "line 1, column 10: not UTF-8 text (byte 0xe9)" in str(info.value)


def test_long_user_strings_are_never_embedded_in_full(tmp_path):
    text = tiny_yaml(name="x", precision={"weight": "w" * 100000, "input": 8})
    message = netlist_problems(tmp_path, text)
    assert "$.precision.weight" in message and len(message) < 400


def test_cli_error_output_is_bounded(tmp_path, capsys):
    network = write(tmp_path, "net.yaml", "name: n\nlayers:\n" + "".join(
        f"  - {{name: {'x' * 20000}{i}, kind: conv2, in_channels: 3, out_channels: 3}}\n" for i in range(40)))
    assert main(["run", write(tmp_path, "chip.yaml", tiny_yaml()), "--network", network]) == 2
    assert len(capsys.readouterr().err) < 40 * 700  # 40 problems, each line clipped


# -- class 4: physically invalid values ------------------------------------------------------------

@pytest.mark.parametrize("override, where, fragment", [
    ({"r_on": "-5kOhm"}, "$.cell.r_on", "expected a positive number"),
    ({"r_on": "above r_off"}, "$.cell", "expected r_on < r_off"),
    ({"read_pulse": "-10ns"}, "$.cell.read_pulse", "expected a positive number"),
    ({"sigma_d2d": -0.1}, "$.cell.sigma_d2d", "expected a number >= 0"),
    ({"read_voltage": 0}, "$.cell.read_voltage", "expected a positive number"),
    ({"write_current": "-1uA"}, "$.cell.write_current", "expected a number >= 0"),
    ({"nonlinearity_ltp": ".nan"}, "$.cell.nonlinearity_ltp", "expected"),
])
def test_cell_values_have_physical_ranges(tmp_path, override, where, fragment):
    if override.get("r_on") == "above r_off":  # from the registered cell, whatever its defaults are today
        from cimgraph.plugins import default_registry

        override = {"r_on": 2 * default_registry().memory_cell("rram.1t1r").r_off}
    text = tiny_yaml(cell={"name": "rram.1t1r", **override}).replace("'.nan'", ".nan")
    message = netlist_problems(tmp_path, text)
    assert f"chip.yaml: {where}: " in message and fragment in message


@pytest.mark.parametrize("override, where, fragment", [
    ({"pulldown_width": -1}, "$.cell.pulldown_width", "expected a positive number"),
    ({"pullup_width": 0}, "$.cell.pullup_width", "expected a positive number"),
    ({"pullup_width": "wide"}, "$.cell.pullup_width", ""),
])
def test_sram_cell_transistor_widths_are_validated(tmp_path, override, where, fragment):
    text = tiny_yaml(cell={"name": "sram.8t", **override})
    message = netlist_problems(tmp_path, text)
    assert f"chip.yaml: {where}: " in message and fragment in message


def test_sram_cell_widths_belong_to_sram_cells(tmp_path):
    """A pull-down width on an RRAM cell is a mistake, reported at $.cell; SRAM cells take the V2 defaults."""
    message = netlist_problems(tmp_path, tiny_yaml(cell={"name": "rram.1t1r", "pulldown_width": 2}))
    assert "chip.yaml: $.cell: " in message and "pulldown_width" in message and "family sram" in message
    raw = tiny_netlist()
    raw["cell"] = {"name": "sram.6t", "pullup_width": 1.5}
    raw["chip"]["tile"]["pe"]["subarray"] = {"kind": "array.sram", "rows": 64, "columns": 64,
                                             "adc": {"kind": "adc.flash", "bits": 4, "share": 8}}
    chip = load_netlist(raw)
    assert (chip.cell.pulldown_width, chip.cell.pullup_width) == (2.08, 1.5)


@pytest.mark.parametrize("field, value, fragment", [
    ("bits", 0, "expected an integer from 1"),
    ("share", -8, "expected an integer"),
    ("bits", True, "expected an integer"),
])
def test_model_fields_have_ranges(field, value, fragment):
    raw = tiny_netlist()
    raw["chip"]["tile"]["pe"]["subarray"]["adc"][field] = value
    with pytest.raises(NetlistError) as info:
        load_netlist(raw)
    assert f"$.chip.tile.pe.subarray.adc.{field}: " in str(info.value) and fragment in str(info.value)


def test_adc_cannot_share_more_columns_than_the_subarray_has():
    raw = tiny_netlist()
    raw["chip"]["tile"]["pe"]["subarray"]["adc"]["share"] = 1000
    with pytest.raises(NetlistError) as info:
        load_netlist(raw)
    assert "$.chip.tile.pe.subarray.adc.share: adc.flash shares one unit among 1000 columns, but the subarray " \
           "has 64 columns" in str(info.value)


@pytest.mark.parametrize("clock", ["0Hz", "-1GHz", 1e30, "1THz", ".inf"])
def test_clock_has_a_physical_range(tmp_path, clock):
    text = tiny_yaml(clock=clock).replace("'.inf'", ".inf")
    assert "chip.yaml: $.clock: " in netlist_problems(tmp_path, text)


def test_python_built_models_name_the_field():
    from cimgraph.plugins import default_registry

    reg = default_registry()
    flash = reg.component("adc.flash")
    with pytest.raises(ValueError, match=r"^bits: expected an integer"):
        flash(tech=reg.technology("22nm"), cell=reg.memory_cell("rram.1t1r"), bits=0)


def test_subarray_without_read_out_is_an_error():
    raw = tiny_netlist()
    del raw["chip"]["tile"]["pe"]["subarray"]["adc"]
    with pytest.raises(NetlistError) as info:
        load_netlist(raw)
    assert "$.chip.tile.pe.subarray: the array.rram subarray has no read-out circuit" in str(info.value)


def test_missing_interconnect_or_adder_is_a_reported_assumption(tmp_path, capsys):
    raw = tiny_netlist()
    del raw["chip"]["tile"]["pe"]["accumulation"], raw["chip"]["tile"]["htree"]
    netlist = write(tmp_path, "chip.yaml", yaml.safe_dump(raw))
    network = write(tmp_path, "net.csv", "8,8,8,3,3,8,0,1\n")
    out = tmp_path / "r.json"
    assert main(["run", netlist, "--network", network, "--json", str(out)]) == 0
    err = capsys.readouterr().err
    expected = ["$.chip.tile has no link.* component: moving data to and from its 2 pes is assumed free",
                "$.chip.tile.pe has no adder.* component: adding the partial sums of its 4 subarrays is assumed free"]
    assert all(f"warning: {line}" in err for line in expected)
    assert json.loads(out.read_text())["warnings"] == expected


@pytest.mark.parametrize("level, kind, fragment", [
    (SUBARRAY, "array.rram", "array.rram is an array: it can only be the subarray's own kind"),
    (SUBARRAY, "link.bus", "link.bus (role 'link') is counted by the scheduler only at the chip / tile / pe level"),
    (("chip",), "adc.flash", "adc.flash (role 'adc') is counted by the scheduler only at the subarray level"),
    (("chip", "tile"), "shiftadd.bank",
     "shiftadd.bank (role 'shiftadd') is counted by the scheduler only at the subarray level, not at the tile level"),
])
def test_components_sit_where_the_scheduler_counts_them(level, kind, fragment):
    raw = tiny_netlist()
    node = raw
    for key in level:
        node = node[key]
    node["extra"] = {"kind": kind}
    with pytest.raises(NetlistError) as info:
        load_netlist(raw)
    assert f"$.{'.'.join(level)}.extra: {fragment}" in str(info.value)


def test_subarray_without_shift_adder_is_a_reported_assumption():
    from cimgraph.schedule.run import assumption_warnings

    raw = tiny_netlist()
    del raw["chip"]["tile"]["pe"]["subarray"]["shift_add"]
    assert assumption_warnings(load_netlist(raw)) == [
        "$.chip.tile.pe.subarray has no shiftadd.* component: combining its 8 input-bit cycles x 8 cells per "
        "weight is assumed free"]
    raw["precision"] = {"weight": 1, "input": 1}  # one bit cycle, one cell: nothing to shift and add
    assert assumption_warnings(load_netlist(raw)) == []


def test_file_cut_off_mid_way_is_an_error(tmp_path):
    text = tiny_yaml()
    for cut in (text.index("adc:"), text.index("subarray:"), text.index("pe:"), len(text) // 3):
        message = netlist_problems(tmp_path, text[:cut])
        assert "chip.yaml: " in message


# -- class 5: errors blame the input at fault ------------------------------------------------------

def test_huge_count_is_blamed_on_the_users_key():
    raw = tiny_netlist()
    raw["chip"]["tiles"] = 1_000_000_000
    with pytest.raises(NetlistError) as info:
        load_netlist(raw)
    assert "<netlist>: $.chip.tiles: expected a positive integer or 'auto'" in str(info.value)


def test_huge_channel_counts_are_blamed_on_the_csv_row(tmp_path):
    path = write(tmp_path, "net.csv", "32,32,3,3,3,64,0,1\n1,1,10000000,1,1,10,0,1\n")
    with pytest.raises(WorkloadError, match=r"net.csv: row 2, column 3 \(IFM channel depth\): expected an integer "
                                            r"from 1 to 1048576, got 10000000"):
        read_network_csv(path)


def test_network_no_chip_can_hold_is_blamed_on_its_layer():
    raw = tiny_netlist()
    raw["chip"]["tiles"] = "auto"
    big = Network("big", (Layer(name="fc_huge", kind="fc", in_channels=1 << 20, out_channels=1 << 20),))
    with pytest.raises(MappingError, match="layer fc_huge alone"):
        map_network(load_netlist(raw), big)


def test_adder_tree_sizes_itself_beyond_4096_children():
    raw = tiny_netlist()
    raw["chip"]["tiles"] = 11067
    chip = load_netlist(raw)
    tree = chip.model("chip/accumulation")
    assert tree.children == 11067 and tree.stages() == math.ceil(math.log2(11067))


def test_floorplan_of_a_huge_chip_stays_bounded():
    from types import SimpleNamespace

    from cimgraph.report.data import FLOORPLAN_SQUARES, _floorplan

    layers = [SimpleNamespace(name=f"l{i}", tiles=n, duplication=1, utilization=0.5)
              for i, n in enumerate((500_000, 3, 41_999))]
    squares, note = _floorplan(SimpleNamespace(layers=layers), 600_000)
    assert len(squares) <= FLOORPLAN_SQUARES + 4 and "Each square stands for up to 147 tiles" in note
    for layer in layers:  # every tile accounted for, squares never mix layers
        assert sum(t.count for t in squares if t.layer == layer.name) == layer.tiles
    assert sum(t.count for t in squares) == 600_000
    assert [t.index for t in squares] == sorted(t.index for t in squares)


@pytest.mark.parametrize("layer, fragment", [
    ("{name: a, kind: fc, in_channels: x, out_channels: 3}", "$.layers[0].in_channels: expected an integer from 1"),
    ("{name: a, kind: fc, in_channels: 3, out_channels: 3, input_size: [1]}", "$.layers[0].input_size: expected"),
    ("{name: a, kind: fc, in_channels: 3, out_channels: 3, residual: maybe}", "$.layers[0].residual: expected"),
    ("{name: a, kind: fc, in_chanels: 3, out_channels: 3}", "did you mean 'in_channels'"),
    ("{name: a, kind: lstm, in_channels: 3, out_channels: 3}", "kind must be one of"),
])
def test_network_yaml_errors_in_the_projects_words(tmp_path, layer, fragment):
    path = write(tmp_path, "net.yaml", f"name: n\nlayers:\n  - {layer}\n")
    with pytest.raises(WorkloadError) as info:
        read_network_yaml(path)
    assert f"{path}: " in str(info.value) and fragment in str(info.value)
    assert "invalid literal" not in str(info.value)


# -- class 6: output handling ----------------------------------------------------------------------

def test_outputs_never_overwrite_inputs(tmp_path, capsys):
    netlist = write(tmp_path, "chip.yaml", tiny_yaml())
    before = open(netlist).read()
    assert main(["run", netlist, "--network", "vgg8", "--json", netlist]) == 2
    assert "refusing to overwrite" in capsys.readouterr().err and open(netlist).read() == before
    network = write(tmp_path, "net.csv", "8,8,8,3,3,8,0,1\n")
    result = str(tmp_path / "r.json")
    assert main(["run", netlist, "--network", network, "--json", result]) == 0
    assert main(["report", result, "-o", result]) == 2
    assert main(["run", netlist, "--network", network, "--json", result, "--report", result]) == 2
    assert main(["run", netlist, "--network", network, "--report", network]) == 2
    assert main(["sweep", netlist, "--network", network, "--set", "clock=1GHz", "--csv", netlist]) == 2
    assert open(netlist).read() == before and open(network).read() == "8,8,8,3,3,8,0,1\n"


def test_os_errors_are_clean_exit_2(tmp_path, capsys):
    netlist = write(tmp_path, "chip.yaml", tiny_yaml())
    network = write(tmp_path, "net.csv", "8,8,8,3,3,8,0,1\n")
    blocker = write(tmp_path, "file", "x")
    for target in (os.path.join(blocker, "r.json"), str(tmp_path)):  # parent is a file; a directory
        assert main(["run", netlist, "--network", network, "--json", target]) == 2
    assert main(["run", netlist, "--network", network, "--csv", blocker]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("error:") == 3


def test_writes_are_atomic_and_deterministic(tmp_path):
    path = tmp_path / "out.txt"
    write_text(path, "first\n")
    write_text(path, "second\n")
    assert path.read_text() == "second\n" and [p.name for p in tmp_path.iterdir()] == ["out.txt"]
    with pytest.raises(CimgraphError):
        check_outputs([str(path)], [str(path)])
    netlist = write(tmp_path, "chip.yaml", tiny_yaml())
    network = write(tmp_path, "net.csv", "8,8,8,3,3,8,0,1\n")
    texts = []
    for name in ("a", "b"):
        main(["run", netlist, "--network", network, "--json", str(tmp_path / f"{name}.json"),
              "--csv", str(tmp_path / name)])
        texts.append([(tmp_path / f"{name}.json").read_bytes(), (tmp_path / name / "layers.csv").read_bytes()])
    assert texts[0] == texts[1]


# -- class 7: reports and sweeps -------------------------------------------------------------------

@pytest.mark.parametrize("edit, fragment", [
    (lambda d: d.update(area=float("nan")), "NaN is not a number in JSON"),
    (lambda d: d.update(area=float("inf")), "Infinity is not a number in JSON"),
    (lambda d: d.update(area=-1.0), "$.area: expected a finite number >= 0"),
    (lambda d: d["layers"][0].update(energy=-2e-9), "$.layers[0].energy: expected a finite number >= 0"),
    (lambda d: d.pop("latency"), "latency"),
    (lambda d: d.update(layers="many"), "not a cimgraph result JSON"),
])
def test_report_validates_the_result_json(tmp_path, result_json, edit, fragment):
    data = json.loads(result_json)
    edit(data)
    path = write(tmp_path, "r.json", json.dumps(data))
    with pytest.raises(CimgraphError) as info:
        Result.from_json(path)
    assert path in str(info.value) and fragment in str(info.value)
    assert main(["report", path, "-o", str(tmp_path / "r.html")]) == 2 and not (tmp_path / "r.html").exists()


def test_report_refuses_invalid_and_duplicate_json(tmp_path, result_json):
    for text in ("{", "[1, 2]", result_json.replace("{", '{"area": 1, ', 1), b"\xff\xfe{}",
                 "[" * 100000 + "]" * 100000, '{"area": ' + "9" * 5000 + "}", '{"layers": ' + "[" * 900 + "]" * 900 + "}"):
        with pytest.raises(CimgraphError):
            Result.from_json(write(tmp_path, "r.json", text))


def test_sweep_set_values_and_keys_are_validated_up_front():
    with pytest.raises(CimgraphError, match="given twice"):
        parse_sets(["clock=1GHz", "clock=2GHz"])
    for bad in ("chip.tiles=[1,2]", "chip.tiles={a: 1}", "chip.tiles='x", "chip.tiles=", "=3"):
        with pytest.raises(CimgraphError):
            parse_sets([bad])
    raw = tiny_netlist()
    check_keys(raw, ["chip.tile.pe.subarray.adc.bits", "chip.tiles", "cell.r_on"] if isinstance(raw["cell"], dict)
               else ["chip.tile.pe.subarray.adc.bits", "chip.tiles"])
    check_keys(raw, ["chip.tile.pe.subarray.adc.offset_sigmas"])  # a field of adc.flash not set in the file
    with pytest.raises(NetlistError) as info:
        check_keys(raw, ["chip.tile.pe.subarray.adc.bitz", "chip.tyle.pes"])
    message = str(info.value)
    assert "$.chip.tile.pe.subarray.adc.bitz: no such key to sweep (did you mean 'bits'?)" in message
    assert "$.chip.tyle: no such key to sweep" in message


def test_sweep_exits_non_zero_when_every_point_fails(tmp_path, capsys):
    netlist = write(tmp_path, "chip.yaml", tiny_yaml())
    network = write(tmp_path, "net.csv", "8,8,8,3,3,8,0,1\n")
    assert main(["sweep", netlist, "--network", network, "--set", "chip.tile.pe.subarray.adc.bits=40,50"]) == 2
    assert "every one of the 2 sweep points failed" in capsys.readouterr().err
    assert main(["sweep", netlist, "--network", network, "--set", "chip.tile.pe.subarray.adc.bits=4,50"]) == 0


# -- class 8: accuracy CLI -------------------------------------------------------------------------

def test_option_values_are_numbers_where_they_look_like_numbers():
    assert option_value("variation", "1e-2") == 0.01 and option_value("adc_bits", "4") == 4
    assert option_value("adc", "nonlinear") == "nonlinear"
    for bad in ("inf", "-inf", "nan"):
        with pytest.raises(AccuracyError, match="finite"):
            option_value("variation", bad)
    with pytest.raises(AccuracyError, match="given twice"):
        parse_options(["adc_bits=4", "adc_bits=5"])
    with pytest.raises(AccuracyError, match="NAME=VALUE"):
        parse_options(["adc_bits"])


@pytest.mark.parametrize("options, batches, device, fragment", [
    ({}, 0, "cpu", "--batches 0"),
    ({}, -1, "cpu", "--batches -1"),
    ({}, None, "bogus", "not a torch device"),
    ({}, None, "cuda:7", "cuda"),
    ({"variaton": 0.1}, None, "cpu", "did you mean 'variation'"),
    ({"variation": -0.1}, None, "cpu", "expected a number >= 0"),
    ({"adc_bits": 40}, None, "cpu", "adc_bits"),
    ({"adc": "sideways"}, None, "cpu", "adc"),
])
def test_accuracy_options_fail_before_any_training(options, batches, device, fragment):
    with pytest.raises(AccuracyError) as info:
        check_options(options, batches, device)
    assert fragment in str(info.value)


def test_accuracy_netlist_and_seed_fail_before_any_training(tmp_path):
    with pytest.raises(AccuracyError, match="--seed"):
        check_options({}, None, "cpu", seed=-1)
    bad = write(tmp_path, "chip.yaml", tiny_yaml(clock="fast"))
    with pytest.raises(NetlistError, match=r"chip.yaml: \$.clock"):
        check_options({}, None, "cpu", netlist=bad)


def test_cuda_on_a_cpu_build_is_a_clean_error():
    import torch

    if torch.cuda.is_available():
        assert check_device("cuda") == "cuda"
    else:
        with pytest.raises(AccuracyError, match="no usable CUDA device"):
            check_device("cuda")


@pytest.mark.parametrize("text, fragment", [
    ("level,mean,sigma\n0,1e-6,1e-8\n0,2e-6,1e-8\n", "row 3: level 0 is given again (first on row 2)"),
    ("level,mean,sigma\n0,1e-6,1e-8\n2,2e-6,1e-8\n", "missing level 1"),
    ("level,mean,sigma\n0,1e-6,inf\n1,2e-6,1e-8\n", "row 2, column 3 (sigma): expected a finite number >= 0"),
    ("level,mean,sigma\n0,1e-6,-1\n1,2e-6,1e-8\n", "row 2, column 3 (sigma)"),
    ("level,mean,sigma\n0.5,1e-6,0\n1,2e-6,1e-8\n", "row 2, column 1 (level): expected a level number"),
    ("level,mean\n0,1e-6\n", "missing sigma"),
    ("level,mean,sigma\n0,2e-6,0\n1,1e-6,0\n", "level means must rise"),
])
def test_memory_state_csv_levels_are_honoured(tmp_path, text, fragment):
    path = write(tmp_path, "states.csv", text)
    with pytest.raises(AccuracyError) as info:
        read_memory_states(path)
    assert path in str(info.value) and fragment in str(info.value)


def test_memory_state_rows_are_ordered_by_level(tmp_path):
    states = read_memory_states(write(tmp_path, "s.csv", "level,mean,sigma\n1,2e-6,2e-8\n0,1e-6,1e-8\n"))
    assert states.means == (1e-6, 2e-6) and states.sigmas == (1e-8, 2e-8)


# -- properties: every input loads or raises the project's error with a location ---------------------

LOCATION = ("$", "line ", "row")  # a key path, a line, or a row (a file without layer rows names its rows)
FUZZ = settings(max_examples=int(os.environ.get("CIMGRAPH_FUZZ_EXAMPLES", 40)), deadline=None,
                derandomize=not os.environ.get("CIMGRAPH_FUZZ_RANDOM"),  # CI: the same examples every run
                suppress_health_check=[HealthCheck.function_scoped_fixture])


def mutate(text: str, data) -> str:
    """Delete, duplicate, truncate or insert random characters in a valid text."""
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["cut", "delete", "insert", "dup"]))
        i = data.draw(st.integers(0, max(len(text) - 1, 0)))
        if op == "cut":
            text = text[:i]
        elif op == "delete":
            text = text[:i] + text[i + data.draw(st.integers(1, 20)):]
        elif op == "insert":
            text = text[:i] + data.draw(st.text(alphabet=st.sampled_from(list(":-[]{}&*!,'\"#\n 0123456789.ex|>%@")),
                                                max_size=10)) + text[i:]
        else:
            j = min(len(text), i + data.draw(st.integers(1, 60)))
            text = text[:j] + text[i:j] + text[j:]
    return text


def assert_loads_or_located(load, path):
    try:
        load(path)
    except CimgraphError as exc:
        message = str(exc)
        assert path in message and any(marker in message for marker in LOCATION), message
        assert len(message) < 20000


SEEDS = {  # input format: (reader, file name, a valid text to mutate)
    "netlist": (load_netlist, "chip.yaml", lambda result: tiny_yaml()),
    "NetWork.csv": (read_network_csv, "net.csv",
                    lambda result: "32,32,3,3,3,64,0,1\n16,16,64,3,3,128,1,1\n1,1,8192,1,1,10,0,1\n"),
    "network YAML": (read_network_yaml, "net.yaml", lambda result: (
        "name: n\nlayers:\n  - {name: c1, kind: conv, in_channels: 3, out_channels: 8, kernel: 3, padding: 1, "
        "input_size: [8, 8], pool: 2}\n  - {name: f1, kind: fc, in_channels: 128, out_channels: 10}\n")),
    "memory-state CSV": (read_memory_states, "states.csv",
                         lambda result: "level,mean,sigma\n0,1e-7,1e-9\n1,1e-6,2e-8\n"),
    "result JSON": (Result.from_json, "r.json", lambda result: result),
}


@pytest.mark.parametrize("kind", sorted(SEEDS))
@FUZZ
@given(data=st.data())
def test_property_every_input_loads_or_raises_with_a_location(tmp_path, result_json, kind, data):
    reader, name, seed = SEEDS[kind]
    assert_loads_or_located(reader, write(tmp_path, name, mutate(seed(result_json), data)))


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=200))
def test_property_yaml_loader_never_raises_anything_else(text):
    try:
        safe_yaml.load(text)
    except InputError as exc:
        assert exc.where == "$" or exc.where.startswith("line ")
