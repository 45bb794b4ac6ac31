"""`cimgraph accuracy` from the command line."""
from cimgraph.cli import main


def test_cli_accuracy_prints_float_quantized_cim(capsys):
    assert main(["accuracy", "netlists/vgg8_rram_22nm.yaml", "--batches", "1", "--option", "adc_bits=6"]) == 0
    out = capsys.readouterr().out
    assert "float" in out and "quantized" in out and "CIM" in out and "6-bit" in out


def test_cli_accuracy_bad_option_exit_2(capsys):
    assert main(["accuracy", "netlists/vgg8_rram_22nm.yaml", "--option", "adcbits=6"]) == 2
    assert "did you mean 'adc_bits'" in capsys.readouterr().err
    assert main(["accuracy", "netlists/vgg8_rram_22nm.yaml", "--option", "variation"]) == 2
