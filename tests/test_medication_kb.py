"""The drug knowledge base: integrity of the shipped data (``DrugKB.shared()``), a few
clinically known facts as golden checks, and the loader's errors on broken copies of the
small test knowledge base (``tests/data/medkb``)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from classifiers.medication.kb import DATA_DIR, Dose, Drug, DrugKB, KBError, to_mg

MINI = Path(__file__).resolve().parent / "data" / "medkb"


@pytest.fixture(scope="module")
def kb() -> DrugKB:
    return DrugKB.shared()


def _sourced_facts(kb: DrugKB) -> Iterator[tuple[str, str]]:
    """``(where, source)`` for every fact in the knowledge base that must carry a source."""
    for d in kb.drugs.values():
        yield f"drug {d.id}", d.source
        for n, dose in enumerate(d.doses):
            yield f"drug {d.id} dose {n} ({dose.route})", dose.source
        for attr in ("min_age", "pregnancy", "lactation", "renal", "hepatic"):
            limit = getattr(d, attr)
            if limit is not None:
                yield f"drug {d.id} {attr}", limit.source
    for i in kb.interactions:
        yield f"interaction {i.id}", i.source
    for h in kb.high_alert:
        yield f"high_alert {h.drug or h.drug_class}", h.source
    for b in kb.beers:
        yield f"beers {b.drug or b.drug_class}", b.source
    for p in kb.products:
        yield f"product {p.names[0]}", p.source


def _dose(drug: Drug, route: str = "oral") -> Dose:
    found = [d for d in drug.doses if d.route == route]
    assert found, f"{drug.id} has no {route} dose entry"
    return found[0]


# ---------------------------------------------------------------------- shipped: size
def test_shipped_kb_has_at_least_300_drugs(kb: DrugKB) -> None:
    assert len(kb.drugs) >= 300


def test_shipped_kb_has_at_least_300_interaction_entries(kb: DrugKB) -> None:
    assert len(kb.interactions) >= 300
    assert kb.pair_count() >= len(kb.interactions)  # class rules expand to more pairs


def test_shared_is_loaded_once(kb: DrugKB) -> None:
    assert DrugKB.shared() is kb


def test_version_is_a_stable_hash(kb: DrugKB) -> None:
    assert len(kb.version) == 16
    int(kb.version, 16)
    assert DrugKB.load(MINI).version == DrugKB.load(MINI).version


# ------------------------------------------------------------------- shipped: sources
def test_every_fact_has_a_real_source(kb: DrugKB) -> None:
    missing = [where for where, source in _sourced_facts(kb) if len(source.strip()) < 8]
    assert not missing
    assert sum(1 for _ in _sourced_facts(kb)) > len(kb.drugs) + len(kb.interactions)


# ------------------------------------------------------------------- shipped: classes
def test_every_drug_has_a_class(kb: DrugKB) -> None:
    assert all(d.classes for d in kb.drugs.values())


def test_every_class_id_used_exists(kb: DrugKB) -> None:
    used: dict[str, str] = {}
    for c in kb.classes.values():
        used.update({p: f"class {c.id} parent" for p in c.parents})
    for d in kb.drugs.values():
        used.update({c: f"drug {d.id}" for c in d.classes})
    for i in kb.interactions:
        used.update({s.drug_class: f"interaction {i.id}" for s in (i.a, i.b) if s.drug_class})
    used.update({h.drug_class: "high_alert" for h in kb.high_alert if h.drug_class})
    used.update({b.drug_class: "beers" for b in kb.beers if b.drug_class})
    # Classes and drugs the rules in assess.py / extract.py name in code.
    used.update({"teratogen": "assess.py", "alcohol": "extract.py"})
    unknown = {c: where for c, where in used.items() if c not in kb.classes}
    assert not unknown
    assert "ethanol" in kb.drugs  # extract.py treats it as alcohol


def test_every_class_rule_has_members(kb: DrugKB) -> None:
    """A rule on a class nobody belongs to never fires: a typo in the classes of the drugs."""
    empty = [i.id for i in kb.interactions for s in (i.a, i.b)
             if s.drug_class and not kb.members(s.drug_class)]
    assert not empty


# --------------------------------------------------------------------- shipped: names
def test_names_are_unique_across_drugs(kb: DrugKB) -> None:
    owner: dict[str, str] = {}
    clashes: list[tuple[str, str, str]] = []
    for d in kb.drugs.values():
        for name in set(n.casefold().strip() for n in d.all_names()):
            if name in owner and owner[name] != d.id:
                clashes.append((name, owner[name], d.id))
            owner[name] = d.id
    assert not clashes


def test_names_are_not_blank(kb: DrugKB) -> None:
    assert all(n.strip() for d in kb.drugs.values() for n in d.all_names())


def test_product_names_are_not_drug_names(kb: DrugKB) -> None:
    drug_names = {n.casefold() for d in kb.drugs.values() for n in d.all_names()}
    assert not [n for p in kb.products for n in [*p.names, *p.zh]
                if n.casefold() in drug_names]


# --------------------------------------------------------------------- shipped: doses
def test_every_pediatric_limit_has_a_positive_per_kg_number(kb: DrugKB) -> None:
    bad = [d.id for d in kb.drugs.values() for dose in d.doses if dose.pediatric
           and not ((dose.pediatric.single_per_kg or 0) > 0
                    or (dose.pediatric.daily_per_kg or 0) > 0)]
    assert not bad


# A single maximum above the daily one is deliberate only where the note says why.
WEEKLY_SINGLE = {"fluoxetine"}  # Prozac Weekly: 90 mg once a week, 80 mg/day otherwise


def test_single_dose_never_above_daily_dose(kb: DrugKB) -> None:
    for drug_id in WEEKLY_SINGLE:
        assert "weekly" in _dose(kb.drugs[drug_id]).note.lower()
    bad = []
    for d in kb.drugs.values():
        for dose in d.doses:
            if dose.max_single and dose.max_daily:
                single = to_mg(dose.max_single.amount, dose.max_single.unit)
                daily = to_mg(dose.max_daily.amount, dose.max_daily.unit)
                if (single is not None and daily is not None and single > daily
                        and d.id not in WEEKLY_SINGLE):
                    bad.append((d.id, dose.route))
    assert not bad


# -------------------------------------------------------------- shipped: interactions
def test_no_interaction_pairs_a_drug_with_itself(kb: DrugKB) -> None:
    assert not [i.id for i in kb.interactions if i.a.drug and i.a.drug == i.b.drug]
    assert not [pair for pair in kb._pairs if pair[0] == pair[1]]


def test_severity_is_contraindicated_or_major(kb: DrugKB) -> None:
    assert {i.severity for i in kb.interactions} <= {"contraindicated", "major"}
    assert {i.severity for i in kb.interactions} == {"contraindicated", "major"}


def test_interaction_ids_are_unique(kb: DrugKB) -> None:
    ids = [i.id for i in kb.interactions]
    assert len(ids) == len(set(ids))


def test_dose_above_names_a_real_drug_on_a_side(kb: DrugKB) -> None:
    conditioned = [i for i in kb.interactions if i.dose_above is not None]
    assert conditioned
    for i in conditioned:
        assert i.dose_above is not None
        assert i.dose_above.drug in kb.drugs, i.id
        # the drug whose dose matters is one of the two sides (itself or through its class)
        sides = [s.drug for s in (i.a, i.b) if s.drug]
        sides += [m for s in (i.a, i.b) if s.drug_class for m in kb.members(s.drug_class)]
        assert i.dose_above.drug in sides, i.id


def test_high_alert_and_beers_name_real_drugs(kb: DrugKB) -> None:
    refs = [(h.drug, h.drug_class) for h in kb.high_alert]
    refs += [(b.drug, b.drug_class) for b in kb.beers]
    for drug, klass in refs:
        assert drug is None or drug in kb.drugs
        assert klass is None or klass in kb.classes


# ------------------------------------------------------------------- shipped: golden
def test_golden_nitrate_pde5_contraindicated(kb: DrugKB) -> None:
    found = kb.interactions_between("nitroglycerin", "sildenafil")
    assert found and found[0].severity == "contraindicated"
    assert kb.interactions_between("sildenafil", "nitroglycerin") == found


def test_golden_warfarin_ibuprofen_interaction(kb: DrugKB) -> None:
    found = kb.interactions_between("warfarin", "ibuprofen")
    assert found
    assert found[0].severity in ("contraindicated", "major")


def test_golden_maoi_ssri_contraindicated(kb: DrugKB) -> None:
    found = kb.interactions_between("phenelzine", "sertraline")
    assert found and found[0].severity == "contraindicated"


def test_golden_safe_pair_has_no_interaction(kb: DrugKB) -> None:
    assert kb.interactions_between("acetaminophen", "amoxicillin") == ()


def test_golden_methotrexate_oral_is_weekly_only(kb: DrugKB) -> None:
    dose = _dose(kb.drugs["methotrexate"])
    assert dose.weekly_only
    assert dose.max_weekly is not None and dose.max_weekly.unit == "mg"
    assert kb.high_alert_for("methotrexate") is not None


def test_golden_alendronate_70_mg_is_once_weekly_only(kb: DrugKB) -> None:
    dose = _dose(kb.drugs["alendronate"])
    assert dose.max_single_intermittent is not None
    assert dose.max_single_intermittent.amount == 70
    assert dose.max_daily is not None and dose.max_daily.amount < 70


def test_liquid_products_have_a_volume_and_amounts(kb: DrugKB) -> None:
    liquids = [p for p in kb.products if p.volume_ml is not None]
    assert len(liquids) >= 8
    for p in liquids:
        assert all(c.amount is not None for c in p.components), p.names[0]


def test_extended_release_entries_have_sources(kb: DrugKB) -> None:
    ers = {d.id: d.extended_release for d in kb.drugs.values() if d.extended_release}
    assert ers["oxycodone"] is not None and ers["oxycodone"].max_times_daily == 2
    assert all(len(e.source) >= 20 for e in ers.values() if e is not None)


def test_golden_acetaminophen_oral_max_daily_4000_mg(kb: DrugKB) -> None:
    dose = _dose(kb.drugs["acetaminophen"])
    assert dose.max_daily is not None
    assert (dose.max_daily.amount, dose.max_daily.unit) == (4000, "mg")
    assert dose.max_single is not None
    assert (dose.max_single.amount, dose.max_single.unit) == (1000, "mg")


def test_golden_isotretinoin_pregnancy_contraindicated(kb: DrugKB) -> None:
    preg = kb.drugs["isotretinoin"].pregnancy
    assert preg is not None and preg.level == "contraindicated"
    assert "teratogen" in kb.classes_of("isotretinoin")


def test_golden_metformin_renal_contraindicated_below_30(kb: DrugKB) -> None:
    renal = kb.drugs["metformin"].renal
    assert renal is not None
    assert renal.level == "contraindicated"
    assert renal.below == 30


def test_golden_codeine_min_age_12(kb: DrugKB) -> None:
    age = kb.drugs["codeine"].min_age
    assert age is not None
    assert age.min_years == 12
    assert age.level == "contraindicated"


def test_golden_levothyroxine_limits_in_mcg(kb: DrugKB) -> None:
    drug = kb.drugs["levothyroxine"]
    units = {lim.unit for d in drug.doses
             for lim in (d.max_single, d.max_daily, d.max_weekly) if lim is not None}
    units |= {d.pediatric.unit for d in drug.doses if d.pediatric is not None}
    assert units == {"mcg"}


def test_golden_brand_and_chinese_names(kb: DrugKB) -> None:
    acetaminophen = kb.drugs["acetaminophen"]
    assert "Tylenol" in acetaminophen.brands
    assert "paracetamol" in acetaminophen.names
    assert "对乙酰氨基酚" in acetaminophen.zh


# ------------------------------------------------------------------ loader: errors
@pytest.fixture
def mini(tmp_path: Path) -> Path:
    """A writable copy of the small test knowledge base."""
    root = tmp_path / "medkb"
    shutil.copytree(MINI, root)
    return root


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} not found exactly once in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def load_error(root: Path) -> KBError:
    with pytest.raises(KBError) as info:
        DrugKB.load(root)
    return info.value


def test_mini_copy_loads(mini: Path) -> None:
    kb = DrugKB.load(mini)
    assert len(kb.drugs) == 12
    assert kb.version == DrugKB.load(MINI).version  # the hash is of contents, not paths


def test_unknown_class_names_the_file(mini: Path) -> None:
    edit(mini / "drugs" / "mini.yaml", "classes: [thyroid]", "classes: [thyroid_hormone]")
    err = load_error(mini)
    assert err.source == str(mini / "drugs" / "mini.yaml")
    assert "thyroid_hormone" in str(err)
    assert "levothyroxine" in str(err)
    assert str(err).startswith(str(mini / "drugs" / "mini.yaml"))


def test_unknown_parent_class(mini: Path) -> None:
    edit(mini / "classes.yaml", '(ATC M01AH)", parents: [nsaid]}',
         '(ATC M01AH)", parents: [nsaid, no_such_class]}')
    err = load_error(mini)
    assert err.source == str(mini / "classes.yaml")
    assert "no_such_class" in str(err)


def test_renal_steps_must_descend(mini: Path) -> None:
    """A renal step is a stricter cap at lower kidney function: a step above the limit's
    threshold, or with a cap no lower than the one above it, is a load error."""
    good = ('renal: {level: avoid, below: 30, max_daily: {amount: 1200, unit: mg}, steps: '
            '[{below: 15, max_daily: {amount: 600, unit: mg}}], source: "DailyMed ibuprofen, '
            '5.6 Renal toxicity"}')
    old = 'renal: {level: avoid, below: 30, source: "DailyMed ibuprofen, 5.6 Renal toxicity"}'
    edit(mini / "drugs" / "mini.yaml", old, good)
    assert DrugKB.load(mini).drugs["ibuprofen"].renal.steps[0].below == 15  # type: ignore[union-attr]
    edit(mini / "drugs" / "mini.yaml", "{below: 15, max_daily: {amount: 600",
         "{below: 45, max_daily: {amount: 600")
    assert "lower than the limit" in str(load_error(mini))
    edit(mini / "drugs" / "mini.yaml", "{below: 45, max_daily: {amount: 600",
         "{below: 15, max_daily: {amount: 1500")
    assert "lower max_daily" in str(load_error(mini))


def test_duplicate_drug_id(mini: Path) -> None:
    (mini / "drugs" / "zz_more.yaml").write_text(
        "drugs:\n"
        "  - id: warfarin\n"
        "    classes: [vitamin_k_antagonist]\n"
        "    source: \"DailyMed warfarin label\"\n", encoding="utf-8")
    err = load_error(mini)
    assert err.source == str(mini / "drugs" / "zz_more.yaml")
    assert "'warfarin'" in str(err) and "twice" in str(err)


@pytest.mark.parametrize(("old", "new", "clash"), [
    ("brands: [Viagra]", "brands: [Viagra, TYLENOL]", "TYLENOL"),           # case-insensitive
    ("brands: [Benadryl]", "brands: [Benadryl]\n    zh: [布洛芬]", "布洛芬"),  # Chinese name
    ("brands: [Accutane]", "brands: [Accutane]\n    names: [Warfarin]", "Warfarin"),  # generic
    ("brands: [Accutane]", "brands: [Accutane]\n    misspellings: [ibuprofin]", "ibuprofin"),
])
def test_a_name_shared_by_two_drugs(mini: Path, old: str, new: str, clash: str) -> None:
    edit(mini / "drugs" / "mini.yaml", old, new)
    err = load_error(mini)
    assert err.source == str(mini / "drugs" / "mini.yaml")
    assert repr(clash) in str(err)
    assert "used by" in str(err)


def test_a_name_repeated_within_one_drug_is_allowed(mini: Path) -> None:
    edit(mini / "drugs" / "mini.yaml", "brands: [Viagra]", "brands: [Viagra, viagra]")
    assert "sildenafil" in DrugKB.load(mini).drugs


def test_dose_entry_without_a_limit(mini: Path) -> None:
    path = mini / "drugs" / "mini.yaml"
    edit(path, "        max_daily: {amount: 2550, unit: mg}\n", "")
    err = load_error(mini)
    assert err.source == str(path)
    assert "at least one limit" in err.message
    text = path.read_text(encoding="utf-8").splitlines()
    metformin = text.index("  - id: metformin")
    entry = next(n for n, line in enumerate(text) if n > metformin and "- route: oral" in line)
    assert err.line == entry + 1


def test_pediatric_limit_without_a_per_kg_number(mini: Path) -> None:
    edit(mini / "drugs" / "mini.yaml",
         "        pediatric: {daily_per_kg: 90, unit: mg}\n", "        pediatric: {unit: mg}\n")
    err = load_error(mini)
    assert err.source == str(mini / "drugs" / "mini.yaml")


def test_fact_without_source_is_a_schema_error_with_a_line(mini: Path) -> None:
    path = mini / "drugs" / "mini.yaml"
    edit(path, ', source: "DailyMed methotrexate, 4 Contraindications"}', "}")
    err = load_error(mini)
    assert err.source == str(path)
    assert err.field == "drugs.3.pregnancy.source"
    text = path.read_text(encoding="utf-8").splitlines()
    expected = next(n for n, line in enumerate(text, 1)
                    if line.startswith("    pregnancy: {level: contraindicated}"))
    assert err.line == expected
    assert str(err).startswith(f"{path}:{expected}: drugs.3.pregnancy.source: ")


def test_short_source_is_rejected(mini: Path) -> None:
    path = mini / "high_alert.yaml"
    edit(path, "    monitoring: \"Regular INR blood tests; watch for bleeding.\"\n"
         "    source: \"ISMP List of High-Alert Medications in Community/Ambulatory Care, 2024\"",
         "    monitoring: \"Regular INR blood tests; watch for bleeding.\"\n"
         "    source: \"ISMP\"")
    err = load_error(mini)
    assert err.source == str(path)
    assert err.field == "high_alert.0.source"
    assert err.line == 4


def test_unknown_field_is_rejected(mini: Path) -> None:
    edit(mini / "drugs" / "mini.yaml", "brands: [Benadryl]", "brands: [Benadryl]\n    brand: x")
    err = load_error(mini)
    assert err.field is not None and err.field.endswith("brand")


def test_interaction_naming_an_unknown_drug(mini: Path) -> None:
    path = mini / "interactions" / "mini.yaml"
    edit(path, "a: {drug: warfarin}", "a: {drug: warfarine}")
    err = load_error(mini)
    assert err.source == str(path)
    assert "warfarin-nsaid" in str(err) and "'warfarine'" in str(err)


def test_interaction_naming_an_unknown_class(mini: Path) -> None:
    edit(mini / "interactions" / "mini.yaml", "b: {class: nsaid}", "b: {class: nsaids}")
    err = load_error(mini)
    assert "'nsaids'" in str(err)


def test_dose_above_naming_an_unknown_drug(mini: Path) -> None:
    path = mini / "interactions" / "mini.yaml"
    edit(path, "    severity: major\n",
         "    dose_above: {drug: simvastatin, amount: 20}\n    severity: major\n")
    err = load_error(mini)
    assert err.source == str(path)
    assert "'simvastatin'" in str(err)


def test_interaction_side_needs_exactly_one_of_drug_or_class(mini: Path) -> None:
    edit(mini / "interactions" / "mini.yaml", "a: {drug: warfarin}",
         "a: {drug: warfarin, class: nsaid}")
    err = load_error(mini)
    assert "exactly one" in err.message


def test_duplicate_interaction_id(mini: Path) -> None:
    edit(mini / "interactions" / "mini.yaml", "id: warfarin-nsaid", "id: nitrate-pde5")
    assert "used twice" in str(load_error(mini))


def test_product_name_equal_to_a_drug_name(mini: Path) -> None:
    path = mini / "products.yaml"
    edit(path, "names: [Extra Strength Tylenol, Tylenol Extra Strength]",
         "names: [Extra Strength Tylenol, paracetamol]")
    err = load_error(mini)
    assert err.source == str(path)
    assert "'paracetamol'" in str(err) and "acetaminophen" in str(err)


def test_product_component_naming_an_unknown_drug(mini: Path) -> None:
    edit(mini / "products.yaml", "{drug: acetaminophen, amount: 500}",
         "{drug: paracetamol, amount: 500}")
    err = load_error(mini)
    assert err.source == str(mini / "products.yaml")
    assert "'paracetamol'" in str(err)


def test_beers_naming_an_unknown_drug(mini: Path) -> None:
    edit(mini / "beers.yaml", "drug: diphenhydramine", "drug: doxylamine")
    err = load_error(mini)
    assert err.source == str(mini / "beers.yaml")


def test_beers_danger_only_on_avoid(mini: Path) -> None:
    edit(mini / "beers.yaml", "recommendation: avoid",
         "recommendation: caution\n    danger: true")
    err = load_error(mini)
    assert err.source == str(mini / "beers.yaml")
    assert "danger" in str(err)


def test_beers_exception_needs_danger(mini: Path) -> None:
    edit(mini / "beers.yaml", "recommendation: avoid",
         "recommendation: avoid\n    except_when: [allergic reaction]")
    assert "danger" in str(load_error(mini))


def test_invalid_yaml_names_file_and_line(mini: Path) -> None:
    path = mini / "drugs" / "mini.yaml"
    edit(path, "brands: [Benadryl]", "brands: [Benadryl")
    err = load_error(mini)
    assert err.source == str(path)
    assert "invalid YAML" in err.message
    assert err.line is not None


def test_missing_file(mini: Path) -> None:
    (mini / "beers.yaml").unlink()
    err = load_error(mini)
    assert err.source == str(mini / "beers.yaml")
    assert "cannot read" in err.message


def test_version_changes_when_a_data_file_changes(mini: Path) -> None:
    before = DrugKB.load(mini).version
    edit(mini / "drugs" / "mini.yaml", "max_daily: {amount: 2550, unit: mg}",
         "max_daily: {amount: 2000, unit: mg}")
    after = DrugKB.load(mini).version
    assert after != before
    (mini / "interactions" / "more.yaml").write_text("interactions: []\n", encoding="utf-8")
    assert DrugKB.load(mini).version not in (before, after)  # a new file counts too


def test_shipped_data_dir_is_the_default() -> None:
    assert DATA_DIR.is_dir()
    assert (DATA_DIR / "classes.yaml").is_file()


def test_extended_release_single_dose_is_above_the_immediate_release_one(kb: DrugKB) -> None:
    for drug in kb.drugs.values():
        er = drug.extended_release
        if er is None or er.max_single is None:
            continue
        oral = _dose(drug)
        assert oral.max_single is not None
        assert to_mg(er.max_single.amount, er.max_single.unit) > to_mg(
            oral.max_single.amount, oral.max_single.unit), drug.id
    apap = kb.drugs["acetaminophen"].extended_release
    assert apap is not None and apap.max_single is not None
    assert (apap.max_single.amount, apap.max_single.unit) == (1300, "mg")


def test_separable_interactions_are_absorption_interactions(kb: DrugKB) -> None:
    separable = [i for i in kb.interactions if i.separable]
    assert {i.id for i in separable} >= {"ai.fluoroquinolone-antacid", "ai.tetracycline_class-iron"}
    for i in separable:
        assert "hours" in i.management, i.id


def test_golden_dabigatran_single_dose_allows_220_mg_once_daily(kb: DrugKB) -> None:
    dose = _dose(kb.drugs["dabigatran"])
    assert dose.max_single is not None and dose.max_single.amount == 220


# Round 5 entries (each with its source in the data file).
def test_round5_riociguat_is_contraindicated_with_pde5_inhibitors_and_nitrates(kb: DrugKB) -> None:
    for other in ("sildenafil", "tadalafil", "vardenafil", "nitroglycerin",
                  "isosorbide_mononitrate"):
        found = kb.interactions_between("riociguat", other)
        assert found and found[0].severity == "contraindicated", other
        assert "Adempas" in found[0].source


def test_round5_naproxen_single_dose_limits(kb: DrugKB) -> None:
    naproxen = kb.drugs["naproxen"]
    oral = next(e for e in naproxen.doses if e.route == "oral")
    assert oral.max_single is not None and oral.max_single.amount == 1100
    er = naproxen.extended_release
    assert er is not None and er.max_single is not None and er.max_single.amount == 1650


def test_round5_age_limits(kb: DrugKB) -> None:
    for drug, years, level in (("levofloxacin", 18, "avoid"), ("moxifloxacin", 18, "avoid"),
                               ("nimesulide", 12, "contraindicated"),
                               ("ibuprofen", 0.25, "avoid")):
        age = kb.drugs[drug].min_age
        assert age is not None and age.min_years == years and age.level == level, drug
        assert age.source


def test_round5_chinese_brand_products_use_the_lowest_strength(kb: DrugKB) -> None:
    by_name = {n: p for p in kb.products for n in p.zh}
    assert by_name["芬必得"].components[0].amount == 300
    meilin = by_name["美林"]
    assert meilin.volume_ml == 5 and meilin.components[0].amount == 100
    assert "ibuprofen" not in {d for d in kb.drugs if "芬必得" in kb.drugs[d].zh}
