import pytest

from mlrig.components.config import env


def test_secret_is_read_from_its_file_when_unset(tmp_path, monkeypatch):
    secret = tmp_path / "password"
    secret.write_text("s3cret\n")
    monkeypatch.delenv(env.PG_PASSWORD, raising=False)
    monkeypatch.setenv(env.PG_PASSWORD + env.SECRET_FILE_SUFFIX, str(secret))
    env.load_secret_files()
    assert env.get(env.PG_PASSWORD) == "s3cret"


def test_secret_in_the_environment_wins(monkeypatch):
    monkeypatch.setenv(env.PG_PASSWORD, "given")
    monkeypatch.setenv(env.PG_PASSWORD + env.SECRET_FILE_SUFFIX, "/nonexistent")
    env.load_secret_files()
    assert env.get(env.PG_PASSWORD) == "given"


def test_overrides_map_to_dotted_keys(monkeypatch):
    monkeypatch.setenv("MLRIG__SERVING__PORT", "9")
    assert env.overrides()["serving.port"] == "9"


def test_a_sources_own_reference_reads_its_file_or_the_mounted_secret(tmp_path, monkeypatch):
    monkeypatch.delenv("API_TOKEN", raising=False)
    monkeypatch.delenv("API_TOKEN_FILE", raising=False)
    monkeypatch.setattr(env, "SECRET_DIR", str(tmp_path / "mounted"))
    with pytest.raises(
        env.SecretMissing, match=r"add the key API_TOKEN to the Secret mlrig-postgres"
    ):
        env.resolve("Bearer ${API_TOKEN}")
    (tmp_path / "mounted").mkdir()
    (tmp_path / "mounted" / "API_TOKEN").write_text("from-the-secret\n")
    assert env.resolve("Bearer ${API_TOKEN}") == "Bearer from-the-secret"
    (tmp_path / "token").write_text("from-a-file")
    monkeypatch.setenv("API_TOKEN_FILE", str(tmp_path / "token"))
    assert env.resolve("Bearer ${API_TOKEN}") == "Bearer from-a-file"
    monkeypatch.setenv("API_TOKEN", "given")
    assert env.resolve("Bearer ${API_TOKEN}") == "Bearer given"
