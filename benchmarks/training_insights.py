"""Training PPA of VGG-8 beside DNN+NeuroSim V2's Fig. 34, and seed 002's training insights as sweeps.

Prints: (1) V2 per-epoch results for the RRAM, FeFET and 8T-SRAM netlists and POPU on the NeuroTorch netlist,
beside seed 001 Fig. 34; (2) DRAM's share of V2 training energy and the TOPS/W bound it sets, per device;
(3) a write-pulse sweep at batch 200; (4) the phase shares (weight gradient as the bottleneck); (5) NeuroTorch's
claim, POPU against WG unit + DRAM on the same chip, with ratios; (6) the electromigration check.

    python benchmarks/training_insights.py
"""
from __future__ import annotations

import os
import tempfile

import yaml

import cimgraph
from cimgraph.errors import CimgraphError
from cimgraph.schedule.training import evaluate_training
from cimgraph.schedule.training_update import PopuSettings
from cimgraph.workload.training import TrainingSettings

FIG34 = {"area": 48.2939e-6, "wg_area": 10.7168e-6, "latency": 177.327, "energy": 119.46, "dram": 86.0391,
         "wg": 28.7368, "tops_per_w": 0.773328, "forward": 2.26431, "activation_gradient": 2.27542,
         "weight_update": 4.50031e-4}
V2 = ("rram", "fefet", "sram")
NEUROTORCH = "netlists/neurotorch_flash_45nm.yaml"


def run(path: str, scheme: str = "neurosim-v2", **kw):
    mapping = cimgraph.map_network(cimgraph.load_netlist(path), cimgraph.bundled("vgg8"))
    return evaluate_training(mapping, scheme=scheme, **kw)


def variant(path: str, edit) -> str:
    """A temporary copy of a netlist with ``edit(raw)`` applied."""
    with open(path, encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    edit(raw)
    handle = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
    yaml.safe_dump(raw, handle)
    handle.close()
    return handle.name


def fig34_table(results: dict) -> None:
    print("== VGG-8 per epoch (batch 200 x 250 iterations; POPU batch 1 x 50000) beside seed 001 Fig. 34 ==")
    rows = [("chip area [mm^2]", lambda r: r.area * 1e6, FIG34["area"] * 1e6),
            ("WG unit area [mm^2]", lambda r: r.wg_area * 1e6, FIG34["wg_area"] * 1e6),
            ("latency [s]", lambda r: r.latency, FIG34["latency"]),
            ("energy [J]", lambda r: r.energy, FIG34["energy"]),
            ("forward energy [J]", lambda r: r.phase("forward").energy, FIG34["forward"]),
            ("act. gradient energy [J]", lambda r: r.phase("activation_gradient").energy, FIG34["activation_gradient"]),
            ("WG unit energy [J]", lambda r: r.energy_by_group.get("weight_gradient", 0.0), FIG34["wg"]),
            ("DRAM energy [J]", lambda r: r.energy_by_group.get("dram", 0.0), FIG34["dram"]),
            ("update energy [J]", lambda r: r.phase("weight_update").energy, FIG34["weight_update"]),
            ("TOPS/W", lambda r: r.tops_per_w, FIG34["tops_per_w"])]
    names = list(results)
    print(f"{'':26}" + "".join(f"{n:>14}" for n in names) + f"{'Fig. 34':>12}")
    for label, get, ref in rows:
        print(f"{label:26}" + "".join(f"{get(results[n]):14.4g}" for n in names) + f"{ref:12.4g}")


def main() -> None:
    print(f"machine load (uptime): {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    results = {f"V2 {d}": run(f"netlists/vgg8_{d}_32nm_train.yaml") for d in V2}
    # seed 001 Fig. 2's wrapper settings (wl_weight = cellBit = 5: one 5-bit cell per weight; 5-bit errors and
    # gradients), the configuration whose array area (0.37 mm^2 for 13 M weights) Fig. 34 reports
    fig2 = variant("netlists/vgg8_rram_32nm_train.yaml", lambda raw: raw.update(
        cell={"name": "rram.1t1r", "bits_per_cell": 5}, precision={"weight": 5, "input": 8}))
    results["V2 rram Fig.2"] = run(fig2, settings=TrainingSettings(error_bits=5, gradient_bits=5, delta_bits=5))
    wide = run(fig2, settings=TrainingSettings(error_bits=5, gradient_bits=14, delta_bits=5))
    os.unlink(fig2)
    results["POPU flash"] = run(NEUROTORCH, "popu", popu=PopuSettings(refresh_every=0))
    fig34_table(results)
    print("array area [mm^2]: " + ", ".join(f"{n} {r.area_by_group['array'] * 1e6:.3g}" for n, r in results.items())
          + "; Fig. 34: 0.365")
    print(f"V2 rram Fig.2 with gradients at the WG unit's output precision (6 + 8 = 14 bits) to DRAM: DRAM "
          f"{wide.energy_by_group['dram']:.3g} J, energy {wide.energy:.3g} J, {wide.tops_per_w:.3g} TOPS/W "
          f"(Fig. 34: 86 J, 119 J, 0.77 TOPS/W)")

    print("\n== seed 002 insight 5: DRAM dominates V2 training energy (~2 TOPS/W whatever the device) ==")
    for d in V2:
        r = results[f"V2 {d}"]
        dram = r.energy_by_group["dram"]
        print(f"{d:6}: DRAM {dram:.3g} J = {dram / r.dynamic_energy * 100:.0f} % of dynamic energy (largest group: "
              f"{max(r.energy_by_group, key=r.energy_by_group.get)}); TOPS/W {r.tops_per_w:.3g}; "
              f"bound by DRAM alone ops / E_DRAM = {r.ops / dram / 1e12:.3g} TOPS/W")

    print("\n== seed 002 insight 2: a write pulse beyond ~1 us limits throughput at batch 200 (RRAM) ==")
    for pulse in (10e-9, 100e-9, 1e-6, 10e-6, 100e-6):
        path = variant("netlists/vgg8_rram_32nm_train.yaml",
                       lambda raw: raw.__setitem__("cell", {"name": "rram.1t1r", "write_pulse": pulse}))
        r = run(path)
        os.unlink(path)
        wu = r.phase("weight_update").latency
        print(f"write pulse {pulse * 1e9:8.0f} ns: update {wu:9.3g} s = {wu / r.latency * 100:5.1f} % of the epoch; "
              f"throughput {r.tops:.3g} TOPS")

    print("\n== seed 002 insight (Fig. 16): weight-gradient computation is the bottleneck ==")
    for d in V2:
        r = results[f"V2 {d}"]
        shares = ", ".join(f"{p.name} {p.latency / r.latency * 100:.0f} %" for p in r.phases)
        print(f"{d:6}: latency shares {shares}")

    print("\n== NeuroTorch's claim: POPU needs less area, latency and energy than WG unit + DRAM (same chip) ==")
    both = variant(NEUROTORCH, lambda raw: raw["chip"].update(wg={"kind": "wg.sram"}, dram={"kind": "dram.hbm2"}))
    v2 = run(both, settings=TrainingSettings(batch=200, iterations=250))
    os.unlink(both)
    popu = results["POPU flash"]
    v2_cost = {"area": v2.area - popu.area,
               "latency": sum(v2.phase(p).latency for p in ("weight_gradient", "dram", "weight_update")),
               "energy": sum(v2.phase(p).energy for p in ("weight_gradient", "dram", "weight_update"))}
    popu_cost = {"area": 0.0, "latency": popu.phase("weight_update").latency,
                 "energy": popu.phase("weight_update").energy}
    for key, unit in (("area", "mm^2"), ("latency", "s"), ("energy", "J")):
        scale = 1e6 if key == "area" else 1.0
        ratio = popu_cost[key] / v2_cost[key] if v2_cost[key] else float("nan")
        print(f"{key:8}: WG + DRAM + row-by-row update {v2_cost[key] * scale:.4g} {unit}, POPU update "
              f"{popu_cost[key] * scale:.4g} {unit}: POPU / V2 = {ratio:.3g}")
    print(f"whole epoch: V2 {v2.latency:.4g} s, {v2.energy:.4g} J, {v2.area * 1e6:.4g} mm^2; POPU {popu.latency:.4g} s, "
          f"{popu.energy:.4g} J, {popu.area * 1e6:.4g} mm^2")
    for label, settings in (("LTPLTD_both", PopuSettings(mode="LTPLTD_both")),
                            ("LTP_only + pair refresh every 100 updates", PopuSettings(refresh_every=100))):
        u = run(NEUROTORCH, "popu", popu=settings).phase("weight_update")
        print(f"POPU {label}: update {u.latency:.4g} s, {u.energy:.4g} J: POPU / V2 = "
              f"{u.latency / v2_cost['latency']:.3g} (latency), {u.energy / v2_cost['energy']:.3g} (energy)")

    print("\n== electromigration: ReRAM2 (16 uA per cell) on 256-cell lines ==")
    high = variant(NEUROTORCH, lambda raw: (raw.__setitem__("cell", {"name": "neurotorch.reram2", "bits_per_cell": 7}),
                                           raw["chip"]["tile"]["pe"]["subarray"].__setitem__("kind", "array.crossbar")))
    try:
        run(high, "popu", popu=PopuSettings(electromigration="error"))
    except CimgraphError as exc:
        print(f"error mode: {exc}")
    r = run(high, "popu")
    os.unlink(high)
    print("serialise mode: " + "; ".join(n for n in r.notes if "serialised" in n))


if __name__ == "__main__":
    main()
