"""make_figures on fabricated output folders: every figure, and graceful degradation."""

import shutil

from carbon_balance.figures import draw_all, load_results, make_figures

EXPECTED = {"nep_maps", "budget_totals", "map_ce_t_co2", "map_cs_t_co2", "map_cb_t", "map_cbi",
            "map_ecc", "map_esc", "chart_cbi", "chart_ecc", "chart_esc", "zone_maps",
            "zone_shares", "zone_transitions", "change_ce_t_co2", "change_cs_t_co2",
            "change_cb_t", "change_cbi", "moran", "lisa_cb_t", "lisa_cbi"}


def test_all_figures_of_a_complete_folder(output_folder, tmp_path):
    folder = tmp_path / "r"
    shutil.copytree(output_folder, folder)
    made = draw_all(load_results(folder), strict=True)
    assert {m.spec.stem for m in made} == EXPECTED
    for m in made:
        assert m.png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (m.svg is not None) == m.spec.stem.startswith(("map_", "zone_maps", "lisa_"))
    # CE and ECC do not use the generated vegetation inputs; everything else does
    flags = {m.spec.stem: m.spec.generated for m in made}
    assert not flags["map_ce_t_co2"] and not flags["map_ecc"] and not flags["chart_ecc"]
    assert flags["map_cs_t_co2"] and flags["zone_maps"] and flags["nep_maps"]
    assert all(flags[s] for s in EXPECTED - {"map_ce_t_co2", "map_ecc", "chart_ecc",
                                             "change_ce_t_co2"})
    svg = (folder / "figures" / "zone_maps.svg").read_text()
    assert "Generated (synthetic) inputs" in svg  # the label is real text in the SVG


def test_minimal_folder_degrades_gracefully(tmp_path, make_output_folder):
    folder = make_output_folder(tmp_path / "min", optional=False)
    paths = make_figures(folder)
    stems = {p.stem for p in paths}
    assert "budget_totals" in stems and "zone_maps" in stems and "map_cb_t" in stems
    assert not stems & {"nep_maps", "zone_shares", "zone_transitions", "moran", "lisa_cb_t",
                        "change_cbi"}
    assert all(p.exists() for p in paths)


def test_stale_figures_are_removed_and_others_kept(tmp_path):
    from carbon_balance.figures import _remove_stale

    for name in ("budget_totals.png", "map_cbi.png", "map_cbi.svg", "uncertainty_tornado.png"):
        (tmp_path / name).write_bytes(b"x")
    _remove_stale(tmp_path, {"map_cbi"})  # budget_totals was not redrawn this time
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map_cbi.png", "map_cbi.svg",
                                                          "uncertainty_tornado.png"]
