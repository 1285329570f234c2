"""The API client the benchmark load authenticates as (created by bench/service_setup.py)."""

CLIENT_ID = "c_bench00000000000"
API_KEY = f"{CLIENT_ID}.benchmark-secret-0123456789abcdef0123456789"
