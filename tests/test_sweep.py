"""Design sweeps over netlist parameters."""
import pytest

from cimgraph.cli import main
from cimgraph.errors import CimgraphError, NetlistError
from cimgraph.schedule.sweep import parse_sets, set_path, sweep
from cimgraph.testing import tiny_netlist
from cimgraph.workload import Layer, Network

NET = Network("n", (Layer(name="c", kind="conv", in_channels=8, out_channels=8, kernel=3, stride=1, padding=1,
                          groups=1, input_size=(8, 8), pool=1),))


def test_sweep_grid_and_monotonic_adc_area():
    rows = sweep(tiny_netlist(), NET, {"chip.tile.pe.subarray.adc.bits": [3, 5, 7], "technology": ["45nm", "22nm"]},
                 progress=False)
    assert len(rows) == 6 and not any("error" in r for r in rows)
    by_tech = {t: [r["area_mm2"] for r in rows if r["technology"] == t] for t in ("45nm", "22nm")}
    assert by_tech["45nm"] == sorted(by_tech["45nm"]) and by_tech["45nm"][0] > by_tech["22nm"][0]


def test_sweep_reports_bad_points_with_file_and_path():
    rows = sweep(tiny_netlist(), NET, {"chip.tile.pe.subarray.adc.bits": [5, "six"]}, progress=False, file="x.yaml")
    assert "error" not in rows[0]
    assert rows[1]["error"].startswith("x.yaml: $.chip.tile.pe.subarray.adc.bits")


def test_set_path_and_parse_sets_errors():
    raw = tiny_netlist()
    with pytest.raises(NetlistError):
        set_path(raw, "chip.tyle.pes", 4)
    assert parse_sets(["a.b=1,2.5,auto"]) == {"a.b": [1, 2.5, "auto"]}
    with pytest.raises(CimgraphError):
        parse_sets(["nonsense"])


def test_cli_sweep(tmp_path, capsys):
    out = tmp_path / "sweep.csv"
    assert main(["sweep", "netlists/vgg8_rram_22nm.yaml", "--network", "vgg8",
                 "--set", "chip.tile.pe.subarray.adc.bits=4,5", "--csv", str(out)]) == 0
    assert "tops_per_w" in capsys.readouterr().out
    assert len(out.read_text().splitlines()) == 3
