"""Netlist loading: validation messages with key paths, all problems at once, the chip graph."""
import copy
import glob

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cimgraph import load_netlist
from cimgraph.cli import main
from cimgraph.errors import CimgraphError, NetlistError
from cimgraph.testing import tiny_netlist

NETLISTS = sorted(glob.glob("netlists/*.yaml"))


def problems(raw):
    with pytest.raises(NetlistError) as info:
        load_netlist(raw)
    return [str(p) for p in info.value.problems]


def test_tiny_netlist_builds_graph():
    chip = load_netlist(tiny_netlist())
    assert chip.counts == {"tiles": 2, "pes": 2, "subarrays": 4}
    assert chip.instances("chip/tile/pe/subarray") == 16
    assert chip.instances("chip/tile/pe/subarray/adc") == 16
    assert chip.children("chip/tile/pe/subarray")[0].startswith("chip/tile/pe/subarray/")
    kinds = {k for _, _, k in chip.graph.edges(keys=True)}
    assert kinds == {"contains", "htree", "bus"}
    assert chip.find("adc").bits == 5 and chip.cells_per_weight == 8
    # context injection: the mux and shift-adder got the ADC's sharing, the array's size
    assert chip.model("chip/tile/pe/subarray/shift_add").share == 8
    assert chip.model("chip/tile/pe/subarray/mux").columns == 64
    # the chip area is the sum of every component times its instances
    total = sum(chip.model(n).area() * chip.instances(n) for n in chip.components())
    assert chip.area() == pytest.approx(total, rel=1e-12)


def test_replicated_instances_are_one_node():
    raw = tiny_netlist()
    raw["chip"]["tiles"] = 64
    chip = load_netlist(raw)
    assert chip.graph.number_of_nodes() == load_netlist(tiny_netlist()).graph.number_of_nodes()
    assert chip.instances("chip/tile/pe/subarray") == 64 * 2 * 4


def test_two_tiles_cost_twice_one_tile_area():
    one, two = tiny_netlist(), tiny_netlist()
    one["chip"]["tiles"], two["chip"]["tiles"] = 1, 2
    a1, a2 = load_netlist(one), load_netlist(two)
    tile1 = a1.instances("chip/tile") * a1.node("chip/tile")["unit_area"]
    tile2 = a2.instances("chip/tile") * a2.node("chip/tile")["unit_area"]
    assert tile2 == pytest.approx(2 * tile1, rel=1e-9)


def test_wrong_type_names_key_path():
    raw = tiny_netlist()
    raw["chip"]["tile"]["pe"]["subarray"]["adc"]["bits"] = "six"
    (msg,) = problems(raw)
    assert msg.startswith("$.chip.tile.pe.subarray.adc.bits:") and "'six'" in msg


def test_unknown_key_with_hint():
    raw = tiny_netlist()
    raw["precision"]["wieght"] = 4
    (msg,) = problems(raw)
    assert "$.precision.wieght" in msg and "did you mean 'weight'" in msg


def test_unknown_component_field_with_hint():
    raw = tiny_netlist()
    raw["chip"]["tile"]["pe"]["subarray"]["adc"]["bitz"] = 4
    (msg,) = problems(raw)
    assert "$.chip.tile.pe.subarray.adc.bitz" in msg and "did you mean 'bits'" in msg


def test_misspelt_component_kind():
    raw = tiny_netlist()
    raw["chip"]["tile"]["pe"]["subarray"]["adc"]["kind"] = "adc.flsh"
    (msg,) = problems(raw)
    assert "$.chip.tile.pe.subarray.adc.kind" in msg and "did you mean 'adc.flash'" in msg
    assert "cimgraph components" in msg


def test_negative_count():
    raw = tiny_netlist()
    raw["chip"]["tile"]["pe"]["subarrays"] = -3
    (msg,) = problems(raw)
    assert msg.startswith("$.chip.tile.pe.subarrays:") and "positive integer or 'auto'" in msg


def test_all_problems_at_once_and_file_named(tmp_path):
    raw = tiny_netlist()
    raw["precision"]["input"] = 0
    raw["chip"]["tiles"] = "many"
    raw["chip"]["tile"]["pe"]["subarray"]["adc"]["kind"] = "adc.flsh"
    raw["clock"] = "fast"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(NetlistError) as info:
        load_netlist(path)
    text = str(info.value)
    for key in ("$.precision.input", "$.chip.tiles", "$.clock"):
        assert f"{path}: {key}:" in text
    assert len(info.value.problems) >= 3


def test_unknown_technology_and_cell():
    raw = tiny_netlist()
    raw["technology"] = "23nm"
    raw["cell"] = "rram.1t1"
    msgs = problems(raw)
    assert any(m.startswith("$.technology") for m in msgs)
    assert any(m.startswith("$.cell") and "rram.1t1r" in m for m in msgs)


def test_cell_overrides_apply_and_are_validated():
    raw = tiny_netlist()
    raw["cell"] = {"name": "rram.1t1r", "r_on": "10kOhm", "bits_per_cell": 2}
    chip = load_netlist(raw)
    assert chip.cell.r_on == pytest.approx(1e4) and chip.cells_per_weight == 4
    raw["cell"] = {"name": "rram.1t1r", "r_onn": "10kOhm"}
    (msg,) = problems(raw)
    assert "$.cell.r_onn" in msg and "r_on" in msg


def test_yaml_is_safe_loaded(tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text("!!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(NetlistError) as info:
        load_netlist(path)
    assert "not valid YAML" in str(info.value)


def test_missing_file_is_clear():
    with pytest.raises(NetlistError) as info:
        load_netlist("no/such/file.yaml")
    assert "cannot read" in str(info.value)


@pytest.mark.parametrize("path", NETLISTS)
def test_bundled_netlists_load_and_show(path, capsys):
    chip = load_netlist(path)
    assert chip.subarray.rows in (128, 256)   # the NeuroTorch-like netlist uses 256x256 (seed 000 sec. 2)
    assert main(["show", path]) == 0
    out = capsys.readouterr().out
    assert "subarray" in out and ("auto" in out or "chip area" in out)
    assert main(["show", path, "--json"]) == 0
    assert '"hierarchy"' in capsys.readouterr().out


def test_cli_bad_input_exit_code_2(tmp_path, capsys):
    raw = tiny_netlist()
    raw["chip"]["tile"]["pe"]["subarrays"] = -1
    path = tmp_path / "neg.yaml"
    path.write_text(yaml.safe_dump(raw))
    assert main(["show", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "$.chip.tile.pe.subarrays" in err


def test_with_counts_rebuilds_dependent_models():
    raw = tiny_netlist()
    raw["chip"]["tile"]["pes"] = "auto"
    chip = load_netlist(raw)
    assert chip.auto == ["pes"]
    fixed = chip.with_counts(pes=8)
    assert fixed.auto == [] and fixed.instances("chip/tile/pe") == 2 * 8
    assert fixed.model("chip/tile/htree").children == 8


# -- property: random mutations either load or raise the project's own error ---------------------

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-5, 5000), st.floats(allow_nan=True),
                    st.text(max_size=8), st.sampled_from(["auto", "22nm", "1GHz", "adc.flash", "8kB", "-1"]))


def _paths(node, prefix=()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield prefix + (key,)
            yield from _paths(value, prefix + (key,))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_mutations_load_or_raise_own_error(data):
    raw = tiny_netlist()
    for _ in range(data.draw(st.integers(1, 3))):
        paths = list(_paths(raw))
        path = data.draw(st.sampled_from(paths))
        parent = raw
        for key in path[:-1]:
            parent = parent[key]
        action = data.draw(st.sampled_from(["set", "delete", "rename"]))
        if action == "set":
            parent[path[-1]] = data.draw(st.one_of(SCALARS, st.lists(SCALARS, max_size=2),
                                                   st.dictionaries(st.text(max_size=4), SCALARS, max_size=2)))
        elif action == "delete":
            del parent[path[-1]]
        else:
            parent[str(path[-1]) + data.draw(st.text(min_size=1, max_size=2))] = parent.pop(path[-1])
    try:
        chip = load_netlist(copy.deepcopy(raw))
    except CimgraphError:
        return
    assert chip.area() > 0
