from flask import Flask

from app.invoices import invoices


def create_app() -> Flask:
    app = Flask(__name__)
    app.register_blueprint(invoices)
    return app
