from click.testing import CliRunner

from greet.cli import main


def test_greets() -> None:
    assert "Hello, Ana!" in CliRunner().invoke(main, ["Ana"]).output
