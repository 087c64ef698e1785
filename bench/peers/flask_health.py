# The peer for bench/healthcheck.sh: the seeds' stack (Flask under gunicorn) serving the
# same health check as ferry — one SQLite query per request, JSON {"status": "OK"}.
import os
import sqlite3

from flask import Flask, jsonify

app = Flask(__name__)
DB = os.environ.get("PEER_DB", "/tmp/ferry-bench-peer.db")


@app.route("/healthcheck")
def healthcheck():
    con = sqlite3.connect(DB)
    try:
        con.execute("SELECT 1").fetchone()
    finally:
        con.close()
    return jsonify(status="OK")
