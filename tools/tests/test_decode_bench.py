from tools import decode_bench


def test_the_decode_benchmark_reads_the_photos_three_ways_and_ends_with_the_ratios(tmp_path, capsys):
    decode_bench.main(["--photos", "3", "--size", "1200", "900", "--short-side", "100", "--repeats", "1",
                       "--folder", str(tmp_path)])  # fmt: skip
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("machine: ") and "3 JPEGs of 1200 x 900" in lines[1]
    assert [line.split()[0] for line in lines[3:6]] == ["whole", "draft", "disk"]
    assert lines[-1].startswith("ratio whole/draft: ") and "ratio whole/disk cache: " in lines[-1]
    assert len(list((tmp_path / "photos").glob("*.jpg"))) == 3
