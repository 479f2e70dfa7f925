import click


@click.command(help="Greating for NAME.")
@click.argument("name")
def main(name: str) -> None:
    click.echo(f"Hello, {name}!")
