"""``python -m training train|evaluate ...``"""

import click

from training.cli import evaluate, train

cli = click.Group("training", commands={"train": train, "evaluate": evaluate})

if __name__ == "__main__":
    cli()
