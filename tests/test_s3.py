"""The S3 path end to end, against moto's S3 server on 127.0.0.1 (a real HTTP endpoint that
DVC's s3fs talks to; nothing is mocked inside the process)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.helpers import bare_remote_and_clone, git, modelreg, write_model

from modelreg import IntegrityError, Registry

pytestmark = pytest.mark.slow

CREDS = {"access_key_id": "testing", "secret_access_key": "testing"}


def test_s3_remote_end_to_end(
    s3_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    origin, work = bare_remote_and_clone(tmp_path)
    proc = modelreg(
        work,
        "init",
        "--dvc-remote",
        "s3://models/registry",
        "--remote-config",
        f"endpointurl={s3_endpoint}",
        "--remote-config",
        f"access_key_id={CREDS['access_key_id']}",
        "--remote-config",
        f"secret_access_key={CREDS['secret_access_key']}",
    )
    assert proc.returncode == 0, proc.stderr
    committed = (work / ".dvc" / "config").read_text()
    assert "endpointurl" in committed and "testing" not in committed  # secrets stay local
    assert "secret_access_key = testing" in (work / ".dvc" / "config.local").read_text()
    assert "config.local" not in git(work, "ls-files")

    write_model(work, "bytes-on-s3")
    proc = modelreg(work, "register", "churn", "models/churn.pkl", "--push")
    assert (proc.returncode, proc.stdout) == (0, "v1.0.0\n"), proc.stderr
    assert modelreg(work, "promote", "churn", "v1.0.0", "production", "--push").returncode == 0

    # A fresh clone elsewhere: no DVC cache, credentials from the environment.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", str(origin), str(other))
    out = Registry(other).get("churn#production", out=tmp_path / "deploy" / "model.pkl")
    assert out.read_text() == "bytes-on-s3"
    # …and by URL, without a clone at all.
    out = Registry(f"file://{origin}").get("churn@v1.0.0", out=tmp_path / "by-url.pkl")
    assert out.read_text() == "bytes-on-s3"

    # A corrupted object in the bucket is refused and nothing is written.
    import boto3

    md5 = Registry(other).resolve("churn@v1.0.0").md5
    assert md5 is not None
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    s3.put_object(Bucket="models", Key=f"registry/files/md5/{md5[:2]}/{md5[2:]}", Body=b"evil")
    dest = tmp_path / "corrupt.pkl"
    with pytest.raises(IntegrityError, match=f"expected {md5}"):
        Registry(other).get("churn@v1.0.0", out=dest)
    assert not dest.exists()


@pytest.mark.parametrize("fault", ["unreachable", "no-credentials"])
def test_dvc_remote_faults_stop_before_any_tag_leaves(
    s3_endpoint: str, tmp_path: Path, fault: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # fail fast instead of botocore's retries
    origin, work = bare_remote_and_clone(tmp_path)
    endpoint = "http://127.0.0.1:9" if fault == "unreachable" else s3_endpoint
    options = {"endpointurl": endpoint}
    if fault == "unreachable":
        options.update(CREDS)
    Registry(work).init(dvc_remote="s3://models/faults", remote_config=options)
    write_model(work, "never-shared")
    proc = modelreg(work, "register", "churn", "models/churn.pkl", "--push")
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "DVC could not push" in lines[0], lines
    assert "done locally" in lines[0] and "run `modelreg push`" in lines[0]
    assert git(tmp_path, "ls-remote", "--tags", str(origin)) == ""  # no tag without its bytes
    # The registration stands locally; `modelreg push` completes it once the remote works.
    assert Registry(work).latest("churn").version == "v1.0.0"
