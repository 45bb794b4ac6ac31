"""Transformers on a hybrid ACIM/DCIM chip: layer kinds, imports, the DCIM array, hybrid mapping and costs."""
from __future__ import annotations

import copy
import math

import pytest
import yaml
from hypothesis import given, settings, strategies as st

import cimgraph
from cimgraph.cli import main
from cimgraph.components.dcim import DigitalCIMArray, adder_tree
from cimgraph.components.digital import ripple_adder
from cimgraph.components.function_units import OPERATIONS, FunctionUnit, array_multiplier
from cimgraph.errors import MappingError, NetlistError, WorkloadError
from cimgraph.plugins import default_registry
from cimgraph.schedule.hybrid import dynamic_write, kind_totals
from cimgraph.workload import Layer, Network, bundled, from_torch
from cimgraph.workload.transformer import encoder, encoder_block, vit

HYBRID = "netlists/hybrid_vit_22nm.yaml"
REG = default_registry()


def hybrid_raw() -> dict:
    with open(HYBRID, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope="module")
def small_vit() -> Network:
    return vit("vit2", width=64, depth=2, heads=2, mlp=128)


@pytest.fixture(scope="module")
def small_result(small_vit):
    mapping = cimgraph.map_network(cimgraph.load_netlist(HYBRID), small_vit)
    return mapping, cimgraph.evaluate(mapping)


# -- workload ---------------------------------------------------------------------------------------

def test_block_shapes_and_hand_counted_macs():
    t, e, h, m = 65, 192, 3, 768
    block = {l.name.split(".")[-1]: l for l in encoder_block("b", t, e, h, m)}
    assert block["qk"].macs == t * t * e and block["sv"].macs == t * t * e     # T^2 E each
    assert block["q"].macs == t * e * e and block["fc1"].macs == t * e * m
    assert block["qk"].weights == e * t        # K^T of every head: H blocks of d x T
    assert block["qk"].parameters == 0 and block["softmax"].weights == 0 and block["softmax"].macs == 0
    assert block["softmax"].elements == t * h * t and block["gelu"].elements == t * m
    assert [l.role for l in block.values()].count("dynamic") == 2


def test_bundled_vit_tiny_parameter_count_by_hand():
    net = bundled("vit_tiny")
    e, m = 192, 768
    assert net.parameters == 3 * 4 * 4 * e + 12 * (4 * e * e + 2 * e * m) + e * 10
    assert bundled("bert_tiny").parameters == 2 * (4 * 128 * 128 + 2 * 128 * 512) + 128 * 128


@pytest.mark.parametrize("fields, message", [
    (dict(kind="softmax", in_channels=8, out_channels=4), "keeps its features"),
    (dict(kind="matmul", in_channels=8, out_channels=8, kernel=3, input_size=(8, 8)), "kernel 1"),
    (dict(kind="attention", in_channels=8, out_channels=8), "kind must be one of"),
])
def test_bad_transformer_layers_are_refused(fields, message):
    with pytest.raises(WorkloadError, match=message):
        Layer(name="x", **fields)


def test_fx_import_of_hand_written_vit_matches_the_builder():
    from cimgraph.workload.torch_vit import ViT

    imported = from_torch(ViT(width=64, depth=2, heads=2, mlp=128), (1, 3, 32, 32))
    built = vit(width=64, depth=2, heads=2, mlp=128)
    assert [l.kind for l in imported] == [l.kind for l in built]
    for a, b in zip(imported, built):
        assert (a.in_channels, a.out_channels, a.groups, a.input_size, a.macs) == \
               (b.in_channels, b.out_channels, b.groups, b.input_size, b.macs)
    assert [l.residual for l in imported] == [l.residual for l in built]
    assert imported.layer("blocks.0.attn.matmul").kind == "matmul"


def test_fx_import_of_multihead_attention_and_sdpa():
    import torch
    from torch import nn

    from cimgraph.workload.torch_vit import MHAEncoder

    net = from_torch(MHAEncoder(width=64, heads=4, mlp=128), (1, 16, 64))
    assert [l.name for l in net][:6] == ["ln.0", "attn.0.in_proj", "attn.0.qk", "attn.0.softmax", "attn.0.sv",
                                         "attn.0.out_proj"]
    qk = net.layer("attn.0.qk")
    assert (qk.groups, qk.in_channels, qk.out_channels, qk.input_vectors) == (4, 64, 4 * 16, 16)

    class SDPA(nn.Module):
        def __init__(self):
            super().__init__()
            self.qkv = nn.Linear(32, 96)

        def forward(self, x):
            q, k, v = self.qkv(x).reshape(1, 10, 3, 2, 16).permute(2, 0, 3, 1, 4).unbind(0)
            return torch.nn.functional.scaled_dot_product_attention(q, k, v)

    kinds = [l.kind for l in from_torch(SDPA(), (1, 10, 32))]
    assert kinds == ["linear", "matmul", "softmax", "matmul"]


def test_cnn_import_is_unchanged_by_the_attention_handlers():
    from cimgraph.workload.torch_models import VGG8

    net = from_torch(VGG8(), (1, 3, 32, 32))
    assert [l.kind for l in net] == ["conv"] * 6 + ["fc"] * 2


def test_huggingface_bert_from_config_matches_bert_tiny_and_evaluates():
    from cimgraph.workload.hf_import import bert_from_config

    net = bert_from_config(tokens=128)
    tiny = bundled("bert_tiny")
    assert (net.parameters, net.macs) == (tiny.parameters, tiny.macs)
    assert sorted(l.kind for l in net if l.role != "functional") == \
        sorted(l.kind for l in tiny if l.role != "functional")
    result = cimgraph.evaluate(cimgraph.map_network(cimgraph.load_netlist(HYBRID), net))
    assert result.macs == net.macs and result.tops_per_w > 0
    assert {d["type"] for d in result.designs} == {"ACIM", "DCIM", "function"}
    # skip connections: BERT adds each block's attention output and FFN output to its input
    flagged = [l.name for l in net if l.residual]
    assert len(flagged) == sum(l.residual for l in tiny) == 4
    assert all(l.kind == "linear" and l.name.endswith("output.dense") for l in net if l.residual)


def test_eager_import_marks_adds_of_two_layer_outputs_as_in_fx():
    import torch

    from cimgraph.workload.hf_import import from_eager

    class Block(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b, self.c = (torch.nn.Linear(8, 8) for _ in range(3))
            self.bias = torch.nn.Parameter(torch.zeros(8))

        def forward(self, x):
            h = self.a(x)
            y = torch.relu(self.b(h)) + h          # skip connection: b's output + a's output
            z = self.c(y) + self.bias + 1.0        # a parameter and a constant are not layer outputs
            return z

    block = Block()
    eager = from_eager(block, torch.zeros(1, 4, 8))
    traced = from_torch(block, (1, 4, 8))
    assert [l.residual for l in eager] == [l.residual for l in traced] == [False, True, False]
    from cimgraph.workload.hf_import import vit_from_config   # pre-norm: the cat'ed patch tokens carry the conv

    vit = vit_from_config(num_hidden_layers=1)
    assert [l.kind for l in vit if l.residual] == ["linear", "linear"]


# -- DCIM array and function units -----------------------------------------------------------------

def dcim(node="22nm", **fields):
    base = dict(tech=REG.technology(node), cell=REG.memory_cell("sram.6t"), rows=128, columns=128,
                cells_per_weight=8, input_bits=8)
    base.update(fields)
    return DigitalCIMArray(**base)


def test_dcim_column_logic_hand_counted():
    array = dcim()
    assert array.tree_bits == 8 and array.accumulator_bits == 16
    tech = array.tech
    # a tree over 128 one-bit products: 64 + 32 + ... + 1 adders of 1, 2, ... 7 bits
    expected = sum(ripple_adder(tech, bits).energy * (128 >> bits) for bits in range(1, 8))
    assert adder_tree(tech, 128, 1).energy == pytest.approx(expected)
    assert array.area() > 128 * 128 * array.cell.area_f2 * tech.feature_size ** 2  # cells plus logic
    assert array.write() == cimgraph.components.arrays.SRAMArray.write(array)   # SRAM row write


def test_dcim_read_grows_with_activity_and_rows_and_refuses_sequential():
    array = dcim()
    assert array.read(0.2, 0.5).energy < array.read(0.8, 0.5).energy
    assert array.read(0.5, 0.2).energy < array.read(0.5, 0.8).energy
    assert dcim(rows=256).read().energy > array.read().energy
    assert dcim(rows=256).read().latency > array.read().latency
    with pytest.raises(Exception, match="parallel"):
        dcim(readout="sequential")


def test_function_unit_energy_is_its_operations():
    unit = FunctionUnit(tech=REG.technology("22nm"), lanes=4)
    adder, mult = ripple_adder(unit.tech, 8), array_multiplier(unit.tech, 8)
    from cimgraph.components.digital import dff

    reg = dff(unit.tech).copies(16)
    for kind, (adds, mults) in OPERATIONS.items():
        expected = 4 * (adds * adder.energy + mults * mult.energy + (adds + mults) * reg.energy)
        assert getattr(unit, kind)().energy == pytest.approx(expected)
    assert unit.softmax().energy > unit.layernorm().energy  # 8 operations against 6


# -- netlist designs ------------------------------------------------------------------------------

def test_old_netlists_have_no_designs():
    chip = cimgraph.load_netlist("netlists/vgg8_rram_22nm.yaml")
    assert chip.spec.designs == {} and chip.designs == {}


def test_design_problems_are_reported_together_with_paths():
    raw = hybrid_raw()
    design = raw["designs"]["attention"]
    design["runs"] = ["matmull"]
    design["tilez"] = 3
    design["tile"]["pe"]["subarray"]["rowz"] = 4
    raw["chip"]["tiles"] = "many"
    with pytest.raises(NetlistError) as info:
        cimgraph.load_netlist(raw, file="h.yaml")
    text = str(info.value)
    assert "$.designs.attention.runs: unknown layer kind 'matmull'" in text and "did you mean 'matmul'" in text
    assert "$.designs.attention.tilez" in text and "$.chip.tiles" in text
    raw = hybrid_raw()
    raw["designs"]["attention"]["tile"]["pe"]["subarray"]["rowz"] = 4
    with pytest.raises(NetlistError, match=r"\$\.designs\.attention\.tile\.pe\.subarray\.rowz"):
        cimgraph.load_netlist(raw, file="h.yaml")


# -- hybrid mapping --------------------------------------------------------------------------------

def test_each_kind_goes_to_a_design_that_runs_it(small_vit, small_result):
    mapping, _ = small_result
    for layer in small_vit:
        expected = {"static": "chip", "dynamic": "attention", "functional": "function"}[layer.role]
        assert mapping.assignment[layer.name] == expected
    assert mapping.parts["attention"].chip.subarray.kind == "array.dcim"
    assert mapping.parts["attention"].chip.spec.precision.weight == 8   # operands are 8-bit activations


def test_transformer_on_an_analog_only_chip_names_the_layer():
    raw = hybrid_raw()
    del raw["designs"]
    with pytest.raises(MappingError, match=r"layer blocks\.0\.qk \(matmul.*no tile design runs 'matmul'"):
        cimgraph.map_network(cimgraph.load_netlist(raw), vit(width=64, depth=1, heads=2, mlp=128))
    del raw["chip"]["functions"]
    with pytest.raises(MappingError, match=r"layer blocks\.0\.ln1 \(layernorm\) needs a function unit"):
        cimgraph.map_network(cimgraph.load_netlist(raw), vit(width=64, depth=1, heads=2, mlp=128))


def test_too_big_a_transformer_fails_naming_the_layer():
    raw = hybrid_raw()
    raw["designs"]["attention"]["tiles"] = 2
    with pytest.raises(MappingError, match=r"layer blocks\.\d+\.(qk|sv) needs \d+ tiles"):
        cimgraph.map_network(cimgraph.load_netlist(raw), vit(width=64, depth=2, heads=2, mlp=128))


# -- hybrid costs ------------------------------------------------------------------------------------

def test_hybrid_totals_are_sums_of_their_parts(small_result):
    mapping, r = small_result
    for layer in r.layers:
        assert sum(layer.energy_by_component.values()) == pytest.approx(layer.energy, rel=1e-9)
        assert sum(layer.latency_by_group.values()) == pytest.approx(layer.latency, rel=1e-9)
    assert sum(l.energy for l in r.layers) == pytest.approx(r.dynamic_energy)
    assert sum(c.area for c in r.components) == pytest.approx(r.area)
    assert r.period == pytest.approx(max(l.latency for l in r.layers))
    assert r.macs == mapping.network.macs
    assert sum(row[4] for row in kind_totals(r)) == pytest.approx(r.dynamic_energy)
    design_area = sum(c.area for c in r.components if c.path.startswith("attention:"))
    assert design_area == pytest.approx(next(d["area"] for d in r.designs if d["design"] == "attention"))


def test_dynamic_write_hand_counted(small_result):
    mapping, r = small_result
    part = mapping.parts["attention"]
    placement = part.layer("blocks.0.sv")          # V of 2 heads: 65 rows x (32 x 8 bits) each
    write = part.chip.subarray.write()
    latency, energy = dynamic_write(part, placement)
    rows = sum(len(g) for g in placement.row_groups()) * placement.subarrays_per_copy / len(placement.row_groups())
    assert rows == 2 * 65 * math.ceil(32 * 8 / 128)
    # 65 tokens against the pipeline's pace, the patch embedding's 64 vectors: 2 copies, each written
    assert placement.duplication == 2
    assert energy == pytest.approx(rows * placement.duplication * write.energy)
    assert latency == pytest.approx(65 * write.latency)
    booked = next(l for l in r.layers if l.name == "blocks.0.sv").energy_by_component
    assert booked["attention:chip/tile/pe/subarray"] > energy      # reads + the write


def test_functional_layer_cost_is_elements_over_lanes(small_result):
    mapping, r = small_result
    unit = mapping.chip.model("chip/functions")
    layer = mapping.network.layer("blocks.0.softmax")
    booked = next(l for l in r.layers if l.name == layer.name)
    # every element's operations, then one reciprocal per row: tokens x heads rows of the scores
    rows = layer.input_vectors * 2
    assert layer.groups == 2 and layer.elements == rows * layer.input_vectors
    assert booked.energy_by_component["chip/functions"] == pytest.approx(
        layer.elements / unit.lanes * unit.softmax().energy + rows / unit.lanes * unit.row("softmax").energy)


def test_row_reciprocal_and_inverse_sqrt_are_newton_steps():
    from cimgraph.components.function_units import newton_steps

    assert [newton_steps(b) for b in (4, 8, 16, 32)] == [0, 1, 2, 3]
    unit = FunctionUnit(tech=REG.technology("22nm"), lanes=4, input_bits=16)   # seed + 2 steps
    adder, mult = ripple_adder(unit.tech, 16), array_multiplier(unit.tech, 16)
    from cimgraph.components.digital import dff

    reg = dff(unit.tech).copies(32)
    for kind, (adds, mults) in (("softmax", (1 + 2 * 1, 1 + 2 * 2)), ("layernorm", (1 + 2 * 1, 1 + 2 * 3))):
        expected = 4 * (adds * adder.energy + mults * mult.energy + (adds + mults) * reg.energy)
        assert unit.row(kind).energy == pytest.approx(expected)
    assert unit.row("gelu") is None


def test_k_is_transposed_through_the_chip_buffer(small_result):
    from cimgraph.schedule.hybrid import needs_transpose

    mapping, r = small_result
    qk, sv = mapping.network.layer("blocks.0.qk"), mapping.network.layer("blocks.0.sv")
    assert needs_transpose(qk) and not needs_transpose(sv)
    buffer = mapping.chip.model("chip/buffer")
    width = buffer.width
    booked = {l.name: l.energy_by_component["chip/buffer"] for l in r.layers if l.name in (qk.name, sv.name)}
    bits = mapping.chip.spec.precision.input

    def moved(layer, extra):   # buffer reads (inputs + operand [+ transpose]) and writes (outputs [+ transpose])
        reads = layer.input_vectors * layer.in_channels * bits + layer.weights * bits * (1 + extra)
        writes = layer.elements * bits + layer.weights * bits * extra
        return reads / width * buffer.read().energy + writes / width * buffer.write().energy

    assert booked[qk.name] == pytest.approx(moved(qk, 1))
    assert booked[sv.name] == pytest.approx(moved(sv, 0))


def test_longer_sequences_cost_attention_quadratically():
    chip = cimgraph.load_netlist(HYBRID)
    costs = []
    for tokens in (32, 64):
        net = encoder(tokens=tokens, width=64, depth=1, heads=2, mlp=128)
        r = cimgraph.evaluate(cimgraph.map_network(chip, net))
        costs.append({k: (macs, energy) for k, _, macs, _, energy in kind_totals(r)})
    assert costs[1]["matmul"][0] == 4 * costs[0]["matmul"][0]
    assert costs[1]["linear"][0] == 2 * costs[0]["linear"][0]
    assert costs[1]["matmul"][1] > 2 * costs[0]["matmul"][1]


def test_cli_runs_the_bundled_vit_and_reports_designs(tmp_path, capsys):
    report, out = tmp_path / "vit.html", tmp_path / "vit.json"
    assert main(["run", HYBRID, "--network", "vit_tiny", "--report", str(report), "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "DCIM" in text and "ACIM" in text and "matmul" in text and "softmax" in text
    assert "on 22nm (planar)" in text
    html = report.read_text(encoding="utf-8")
    assert "Tile designs" in html and "Cost by layer kind" in html and "array.dcim" in html
    result = cimgraph.schedule.Result.from_json(out)
    assert [d["type"] for d in result.designs] == ["ACIM", "DCIM", "function"]


# -- technology ---------------------------------------------------------------------------------------

ADVANCED = ["22nm", "14nm", "10nm", "7nm", "5nm", "3nm", "2nm", "1nm"]


def test_advanced_nodes_devices_and_vth_from_gm():
    from cimgraph.tech.advanced_nodes import DEVICES

    devices = {n: REG.technology(n).device for n in ADVANCED}
    assert devices == {"22nm": "planar", "14nm": "finfet", "10nm": "finfet", "7nm": "finfet", "5nm": "finfet",
                       "3nm": "finfet", "2nm": "gaa-nanosheet", "1nm": "gaa-nanosheet"}
    for node, d in DEVICES.items():
        t = REG.technology(f"{node}nm")
        # Horowitz beta (Vdd - Vth) / (2 I_on r_eff) equals V1.4's 1 / (g_m r_eff)
        assert (t.vdd - t.vth) / (2 * t.i_on_n) == pytest.approx(1 / d.gm)
        assert t.c_gate == pytest.approx(d.gate_cap / d.effective_width)
        assert "NeuroSim V1.4" in t.source


def test_monotonic_laws_from_22_to_1nm():
    techs = [REG.technology(n) for n in ADVANCED]
    arrays = {n: dcim(n) for n in ADVANCED}
    for big, small in zip(techs, techs[1:]):
        assert small.feature_size < big.feature_size and small.vdd <= big.vdd
        assert small.c_gate * small.feature_size < big.c_gate * big.feature_size
        assert small.wire_local.pitch <= big.wire_local.pitch
    # the DCIM array's energy falls within each device table (PTM 22-7 nm; V1.4's IRDS devices 5-1 nm:
    # a 5 nm fin of 106 nm effective width carries 2.2x the gate charge of PTM's 43 nm 7 nm fin, so the
    # seam 7 -> 5 nm is not a law), and over the whole span
    for family in (ADVANCED[:4], ADVANCED[4:]):
        for big, small in zip(family, family[1:]):
            assert arrays[small].read().energy < arrays[big].read().energy
            assert arrays[small].write().energy < arrays[big].write().energy
    for big, small in zip(ADVANCED[:4], ADVANCED[1:4]):
        assert arrays[small].area() < arrays[big].area()
    assert arrays["1nm"].area() < arrays["5nm"].area() < arrays["7nm"].area() < arrays["22nm"].area()
    assert arrays["1nm"].read().energy < arrays["22nm"].read().energy


def test_cli_lists_device_types(capsys):
    assert main(["components", "--technologies"]) == 0
    text = capsys.readouterr().out
    assert "gaa-nanosheet" in text and "finfet" in text


# -- accuracy -------------------------------------------------------------------------------------------

def test_digital_matmul_is_the_exact_product_of_quantized_operands(monkeypatch):
    import torch

    from cimgraph.accuracy import transformer as module

    class Follow:   # stands in for a model whose CIM layers are in some mode
        mode = "quant"

    root = [Follow()]
    monkeypatch.setattr(module, "_mode", lambda r: r[0].mode)
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(2, 5, 7, generator=g), torch.rand(2, 7, 3, generator=g)
    out = module.DigitalMatMul(4, root)(a, b)
    sa, sb = float(a.abs().max()) / 7, float(b.max()) / 15      # signed 4-bit, unsigned 4-bit
    qa, qb = torch.clamp(torch.round(a / sa), -7, 7), torch.clamp(torch.round(b / sb), 0, 15)
    assert torch.allclose(out.double(), (qa.double() @ qb.double()) * sa * sb, atol=1e-5)
    assert torch.equal(module.quantize_dynamic(b, 4), qb * sb)
    root[0].mode = "float"
    assert torch.equal(module.DigitalMatMul(4, root)(a, b), a @ b)


def test_bare_products_of_activations_run_on_the_dcim(monkeypatch):
    import torch

    from cimgraph.accuracy import transformer as module

    class Bare(torch.nn.Module):   # a user's attention written with @, torch.bmm and a static x @ W
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.randn(6, 6))

        def forward(self, x):
            scores = torch.softmax(x @ x.transpose(1, 2), dim=-1)
            return torch.bmm(scores, x) @ self.w

    torch.manual_seed(0)
    model, x = Bare(), torch.randn(2, 5, 6)
    prepared = module.prepare(model, 4)
    products = [m for m in prepared.modules() if isinstance(m, module.DigitalMatMul)]
    assert len(products) == 2                                    # @ and bmm; x @ W is a static weight
    monkeypatch.setattr(module, "_mode", lambda root: "float")
    assert torch.allclose(prepared(x), model(x))
    monkeypatch.setattr(module, "_mode", lambda root: "quant")
    q = module.quantize_dynamic
    scores = torch.softmax(q(x, 4) @ q(x.transpose(1, 2), 4), dim=-1)
    assert torch.allclose(prepared(x), (q(scores, 4) @ q(x, 4)) @ model.w, atol=1e-5)


def test_transformer_accuracy_runs_static_layers_on_acim_and_the_rest_digital():
    import torch

    from cimgraph.accuracy.data import digits
    from cimgraph.accuracy.run import simulate_accuracy
    from cimgraph.accuracy.transformer import DigitalMatMul, QuantizedFunction, prepare, transformer_accuracy
    from cimgraph.workload.torch_vit import ViT

    torch.manual_seed(0)
    model = ViT(image=8, patch=2, channels=1, width=16, depth=1, heads=2, mlp=32).eval()
    prepared = prepare(model, 8, 6)
    assert sum(isinstance(m, DigitalMatMul) for m in prepared.modules()) == 2
    assert sum(isinstance(m, QuantizedFunction) for m in prepared.modules()) == 5   # ln1, softmax, ln2, GELU, norm
    data = digits(0, test_size=100)
    options = dict(netlist=HYBRID, progress=False, batches=1, calibration_batches=1)
    result = transformer_accuracy(model, data, **options)
    plain = simulate_accuracy(model, data, **options)
    assert result.float == plain.float                       # the float pass is untouched
    assert set(result.layers) == {n for n, m in model.named_modules() if isinstance(m, (torch.nn.Linear,
                                                                                         torch.nn.Conv2d))}
    with pytest.raises(Exception, match="no product of two activations"):
        prepare(torch.nn.Sequential(torch.nn.Linear(4, 4)))


# -- studies and CLI ------------------------------------------------------------------------------------

def test_dcim_gains_more_energy_efficiency_from_scaling_than_rram_acim():
    # docs/transformers.md case study 1: on whole fins / stacks DCIM gains more TOPS/W than the RRAM
    # ACIM (22 -> 7 nm, one device table), while the RRAM macro gains more density: its 36 F^2 cell
    # shrinks with F^2, the DCIM's logic sits on the contacted-poly-pitch x cell-height grid
    from cimgraph.studies.transformers import MACROS, macro_figures

    gains = {}
    for label, (cell, sub) in MACROS.items():
        base = macro_figures(cell, sub, "22nm")
        gains[cell] = {node: [a / b for a, b in zip(macro_figures(cell, sub, node), base)] for node in ("7nm", "1nm")}
    dcim, rram = gains["sram.6t"], gains["rram.1t1r"]
    assert dcim["7nm"][0] > rram["7nm"][0] > 1
    assert dcim["1nm"][0] > 1 and dcim["1nm"][1] > 1
    assert rram["1nm"][1] > dcim["1nm"][1]


def test_cli_show_and_map_list_the_designs(capsys):
    assert main(["show", HYBRID]) == 0
    assert "design attention (runs matmul; cell sram.6t)" in capsys.readouterr().out
    assert main(["map", HYBRID, "--network", "bert_tiny"]) == 0
    text = capsys.readouterr().out
    assert "[design attention]" in text and "encoder.0.qk" in text and "[chip/functions] runs" in text


def test_transformer_networks_round_trip_yaml_and_refuse_csv(tmp_path):
    from cimgraph.workload import read_network_yaml, write_network_csv, write_network_yaml

    net = encoder(tokens=16, width=32, depth=1, heads=2, mlp=64)
    write_network_yaml(net, tmp_path / "v.yaml")
    assert read_network_yaml(tmp_path / "v.yaml").layers == net.layers
    with pytest.raises(WorkloadError, match="cannot express a layernorm layer"):
        write_network_csv(net, tmp_path / "v.csv")



@settings(max_examples=12, deadline=None)
@given(tokens=st.integers(2, 80), heads=st.sampled_from([1, 2, 4]), head_dim=st.sampled_from([8, 16, 40]),
       depth=st.integers(1, 2))
def test_hybrid_mapping_invariants(tokens, heads, head_dim, depth):
    chip = cimgraph.load_netlist(HYBRID)
    net = encoder(tokens=tokens, width=heads * head_dim, depth=depth, heads=heads, mlp=2 * heads * head_dim)
    mapping = cimgraph.map_network(chip, net)
    placed = [p.layer.name for part in mapping.parts.values() for p in part.layers]
    assert sorted(placed + list(mapping.functional)) == sorted(l.name for l in net)
    cpw = {name: part.chip.cells_per_weight for name, part in mapping.parts.items()}
    for name, part in mapping.parts.items():
        for p in part.layers:
            # every stored value sits in exactly one cell group of each copy
            assert p.cells == p.layer.weights * cpw[name] * p.duplication
            assert 0 < p.utilization <= 1
            assert (name == "attention") == (p.layer.role == "dynamic")


def test_activity_reaches_each_design(small_vit):
    from cimgraph.schedule import Activity

    mapping = cimgraph.map_network(cimgraph.load_netlist(HYBRID), small_vit)
    n = len(mapping.layers)
    low, high = (cimgraph.evaluate(mapping, activity=Activity.uniform(n, a, 0.5)) for a in (0.1, 0.9))
    for kind in ("linear", "matmul"):
        quiet, busy = (next(e for k, *_, e in kind_totals(r) if k == kind) for r in (low, high))
        assert quiet < busy
    with pytest.raises(Exception, match="activity"):
        cimgraph.evaluate(mapping, activity=Activity.uniform(n + 1))


def test_a_second_static_tile_design_takes_the_kinds_it_runs():
    # NeuroSim sizes separate tiles for conventionally mapped layers: a design that runs fc takes VGG-8's fc layers
    raw = hybrid_raw()
    del raw["designs"]["attention"]
    raw["designs"]["dense"] = {"runs": ["fc"], "tile": copy.deepcopy(raw["chip"]["tile"])}
    mapping = cimgraph.map_network(cimgraph.load_netlist(raw), bundled("vgg8"))
    assert [p.layer.name for p in mapping.parts["dense"].layers] == ["fc1", "fc2"]
    assert all(p.layer.kind == "conv" for p in mapping.parts["chip"].layers)
    result = cimgraph.evaluate(mapping)
    assert result.macs == bundled("vgg8").macs and [d["design"] for d in result.designs] == ["chip", "dense"]


@pytest.mark.parametrize("edit, expected", [
    (lambda d: d.update(cell="sram.9t"), r"\$\.designs\.attention\.cell: .*sram\.9t"),
    (lambda d: d.pop("tile"), r"\$\.designs\.attention\.tile: missing"),
    (lambda d: d.update(tiles=0), r"\$\.designs\.attention\.tiles: expected a positive integer"),
    (lambda d: d.update(runs=[]), r"\$\.designs\.attention\.runs: expected a list of layer kinds"),
])
def test_design_field_problems(edit, expected):
    raw = hybrid_raw()
    edit(raw["designs"]["attention"])
    with pytest.raises(NetlistError, match=expected):
        cimgraph.load_netlist(raw, file="h.yaml")
