from pathlib import Path
from tests.conftest import Cli
from tests.pages import ENGLISH_TEXT, render
from tests.test_batches import make_batch
def test_probe(cli: Cli, tmp_path: Path) -> None:
    box = tmp_path / "box"
    for n in range(2):
        render(box, f"sheet-{n}.png", f"Sheet {n}. " + ENGLISH_TEXT, "eng", seed=30 + n)
    batch = make_batch(cli)
    r = cli("ingest", str(box), "--batch", str(batch), "--json")
    print(r.stdout[:1500])
    s = cli("batch", "sample", str(batch), "--percent", "50", "--minimum", "1", "--seed", "7", "--json")
    print(s.exit_code, s.stdout[:1500], s.stderr)
    s = cli("batch", "sample", str(batch), "--percent", "50", "--minimum", "1", "--seed", "7", "--json")
    print(s.exit_code, s.stdout, s.stderr)
    v = cli("--user","sysadmin", "verify", "--json")
    print(v.exit_code, v.stdout[:800], v.stderr)
    print(cli("batch", "status", str(batch), "--json").stdout[:3000])
