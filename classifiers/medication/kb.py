"""The drug knowledge base: versioned YAML under ``data/``, every clinical fact with its source.

Files (see ``data/README.md`` for how entries are written and verified):

- ``classes.yaml``       the closed vocabulary of drug classes (interaction and allergy rules
                         name classes; a drug lists the classes it belongs to);
- ``drugs/*.yaml``       one entry per generic drug: names in English and Chinese, brands,
                         misspellings, classes, adult maximum doses per route, paediatric mg/kg
                         limits, age, pregnancy, lactation, renal and hepatic contraindications;
- ``interactions/*.yaml`` contraindicated or major combinations, drug or class on each side;
- ``high_alert.yaml``    ISMP high-alert medications and the monitoring an answer should mention;
- ``beers.yaml``         AGS Beers criteria entries for adults aged 65 and over;
- ``products.yaml``      combination products and fixed-strength brands, by component.

Loading validates everything strictly (``extra="forbid"``): an unknown class, a drug named by
two entries, a fact without a source, or an interaction naming a drug that does not exist is
an error naming the file and line. The loaded ``DrugKB`` is immutable and shared.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from classifiers.sourcefile import SourceError, line_of, parse_yaml

__all__ = [
    "DATA_DIR",
    "AgeLimit",
    "BeersEntry",
    "Component",
    "Dose",
    "DoseCondition",
    "DoseLimit",
    "Drug",
    "DrugClass",
    "DrugKB",
    "ExtendedRelease",
    "HighAlert",
    "Interaction",
    "KBError",
    "OlderAdultLimit",
    "OrganLimit",
    "PediatricLimit",
    "Product",
    "ReproLimit",
    "Side",
    "to_mg",
]

DATA_DIR = Path(__file__).with_name("data")

Unit = Literal["mg", "mcg", "g", "units", "mEq", "mmol"]
Route = Literal[
    "oral", "iv", "im", "sc", "sublingual", "rectal", "transdermal", "inhaled", "topical",
    "intranasal", "any",
]
Severity = Literal["contraindicated", "major"]
Level = Literal["contraindicated", "avoid", "adjust", "caution"]

_MASS = {"mcg": 0.001, "mg": 1.0, "g": 1000.0}


def to_mg(amount: float, unit: str) -> float | None:
    """``amount`` in mg, or None for units that are not a mass (units, mEq, mmol)."""
    factor = _MASS.get(unit)
    return None if factor is None else amount * factor


class KBError(SourceError):
    """A knowledge-base file that cannot be used."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Sourced(_Strict):
    source: str = Field(min_length=8, description="Where the fact comes from (label section, "
                        "guideline, BNF chapter), specific enough for a pharmacist to check.")
    note: str = ""


class DoseLimit(_Strict):
    amount: float = Field(gt=0)
    unit: Unit


class PediatricLimit(_Strict):
    """mg/kg (or units/kg) limits for children; ``unit`` is the numerator's unit."""

    single_per_kg: float | None = Field(default=None, gt=0)
    daily_per_kg: float | None = Field(default=None, gt=0)
    unit: Unit = "mg"

    @model_validator(mode="after")
    def _some_limit(self) -> PediatricLimit:
        if self.single_per_kg is None and self.daily_per_kg is None:
            raise ValueError("a paediatric limit needs single_per_kg or daily_per_kg")
        return self


class OlderAdultLimit(_Strict):
    """A lower daily maximum from an age on (citalopram 20 mg/day over 60, FDA 2011)."""

    min_age: int = Field(ge=50, le=90)
    max_daily: DoseLimit
    source: str = Field(min_length=8)


class Dose(_Sourced):
    """Adult maximum doses by route. ``max_daily`` is the highest labelled daily dose for any
    adult indication (so a dose above it is above every label), not the usual dose."""

    route: Route = "oral"
    max_single: DoseLimit | None = None
    max_daily: DoseLimit | None = None
    max_weekly: DoseLimit | None = None
    per_kg_below_kg: float | None = Field(
        default=None, gt=0, le=300, description="The per-kg (``pediatric``) limits apply to "
        "adults too below this body weight (IV acetaminophen: under 50 kg; gentamicin, dosed "
        "by weight at every age: 150 kg).")
    max_single_intermittent: DoseLimit | None = Field(
        default=None, description="Highest single dose labelled only for once-weekly (or "
        "rarer) use, above the daily-schedule ``max_single`` (alendronate 70 mg once weekly, "
        "40 mg a day at most): on a daily schedule it is a frequency error; with a weekly "
        "schedule, or none stated, it is the single-dose limit.")
    weekly_only: bool = Field(default=False, description="Taken once weekly (low-dose oral "
                              "methotrexate): a daily schedule is a fatal error (ISMP).")
    pediatric: PediatricLimit | None = None
    older_adult: OlderAdultLimit | None = None
    opioid_naive_max_single: DoseLimit | None = Field(
        default=None, description="Highest labelled starting dose for a patient not already "
        "taking opioids; larger first doses risk fatal respiratory depression.")
    initial_max_single: DoseLimit | None = Field(
        default=None, description="Highest labelled single dose when the drug is started, "
        "for everyone (first-dose syncope with alpha-blockers, methadone's first dose): "
        "applied only to a dose said to start the drug ('starting today', 'initial', "
        "'拟起始', 'dosis inicial', '<drug>-naive').")
    initial_max_daily: DoseLimit | None = Field(
        default=None, description="Highest labelled daily dose in the first days of "
        "treatment where the label titrates for safety (lamotrigine rash, clozapine "
        "seizures and collapse, allopurinol hypersensitivity): applied as "
        "``initial_max_single`` is.")

    @model_validator(mode="after")
    def _some_limit(self) -> Dose:
        if not (self.max_single or self.max_daily or self.max_weekly or self.pediatric
                or self.opioid_naive_max_single):
            raise ValueError("a dose entry needs at least one limit")
        if self.max_single_intermittent is not None and (
                self.max_single is None or self.max_weekly is None):
            raise ValueError("max_single_intermittent needs max_single (the daily-schedule "
                             "limit) and max_weekly")
        return self


class ExtendedRelease(_Sourced):
    """How often an extended- or modified-release form may be taken: the most administrations
    in 24 hours that any label (US or UK) allows for the drug's ER forms. Taking it more often
    ("OxyContin every 4 hours", "ER metformin three times a day") is a frequency error: each
    tablet releases a long interval's dose."""

    max_times_daily: int = Field(ge=1, le=4)
    max_single: DoseLimit | None = Field(default=None, description="The single dose an ER "
                                         "label allows when it is above the drug's immediate-"
                                         "release ``max_single`` (Tylenol 8 HR: 2 x 650 mg = "
                                         "1,300 mg every 8 hours); it replaces that limit for a "
                                         "dose of the ER form.")
    names: list[str] = Field(default_factory=list, description="Names that mean the ER form "
                             "by themselves (OxyContin, MS Contin, 拜新同); any name of the "
                             "drug followed or preceded by ER, XR, XL, SR, CR, LA, "
                             "'extended-release', 缓释 or 控释 also counts.")


class CrossAllergy(_Sourced):
    """An allergy to another drug or class that also rules this drug out, although the drug is
    not in that class (celecoxib with a sulfonamide allergy, oxcarbazepine after a
    carbamazepine hypersensitivity reaction)."""

    allergen: str = Field(min_length=2, description="Drug id or class id.")


class GenotypeRisk(_Sourced):
    """An HLA allele that rules the drug out when the patient carries it (carbamazepine with
    HLA-B*15:02, allopurinol with HLA-B*58:01, abacavir with HLA-B*57:01): a test result
    read from the conversation ("HLA-B*5801 阳性", "HLA-B*57:01 positive")."""

    allele: str = Field(pattern=r"^[A-C]\*\d{2}:\d{2}$", description="HLA allele, two-field "
                        "(B*15:02).")
    level: Literal["contraindicated", "avoid"]


class Washout(_Sourced):
    """How long after the last dose the drug still counts for its contraindicated
    combinations (fluoxetine: 5 weeks before an MAOI; an MAOI: 14 days before an SSRI)."""

    days: int = Field(ge=1, le=120)


class Patch(_Sourced):
    """A transdermal system whose strength is a delivery rate. Fentanyl and buprenorphine
    patches exist only in micrograms per hour: a patch said in mg ("fentanyl patch 50 mg/hr",
    "Duragesic 25 mg") is a unit error (ISMP)."""

    rate_unit: Literal["mcg/h"]
    names: list[str] = Field(default_factory=list, description="Brands that mean the patch "
                             "by themselves (Duragesic, Butrans).")
    min_wear_hours: int | None = Field(default=None, ge=1, le=240, description="The shortest "
                                       "time any label lets one patch stay on before it is "
                                       "replaced (fentanyl: 48 h); a new patch sooner, such "
                                       "as every day, is a frequency error.")
    opioid_tolerant_only: bool = Field(default=False, description="Contraindicated in "
                                       "opioid-naive patients (every fentanyl patch strength "
                                       "is too strong for them, Duragesic label 4).")


class CriteriaCap(_Sourced):
    """A lower daily maximum when ``need`` of the label's patient criteria hold, for one
    indication named in the conversation (apixaban in atrial fibrillation: 2.5 mg twice
    daily with two of age >= 80, weight <= 60 kg, serum creatinine >= 1.5 mg/dL). A
    criterion the conversation does not state counts as not met."""

    max_daily: DoseLimit
    need: int = Field(ge=1, le=3)
    min_age: float | None = Field(default=None, gt=0, le=120)
    max_weight_kg: float | None = Field(default=None, gt=0, le=300)
    min_creatinine_mg_dl: float | None = Field(default=None, gt=0, le=20)
    when: list[str] = Field(min_length=1, description="Words (lower case) that name the "
                            "indication; the cap applies only when one is in the conversation.")

    @model_validator(mode="after")
    def _enough_criteria(self) -> CriteriaCap:
        given = sum(c is not None for c in (self.min_age, self.max_weight_kg,
                                             self.min_creatinine_mg_dl))
        if given < self.need:
            raise ValueError("'need' is more than the criteria given")
        return self


class AgeLimit(_Sourced):
    """Not for children younger than ``min_years`` (Reye's syndrome, respiratory depression)."""

    min_years: float = Field(gt=0, le=18)
    level: Level = "contraindicated"
    contraindicated_when: list[str] = Field(default_factory=list, description="Words (lower "
                                            "case) that, said in the conversation, make the "
                                            "limit contraindicated whatever its level "
                                            "(ceftriaxone in a jaundiced neonate).")


class ReproLimit(_Sourced):
    level: Level
    from_week: int | None = Field(default=None, ge=1, le=42, description="Pregnancy: applies "
                                  "from this gestational week (NSAIDs: 20, FDA 2020).")
    until_week: int | None = Field(default=None, ge=1, le=42, description="Pregnancy: applies "
                                   "only before this gestational week (methimazole: the first "
                                   "trimester, PTU preferred until week 16, ATA 2017).")
    above_daily: DoseLimit | None = Field(default=None, description="Applies only when the "
                                          "stated daily dose is above this (low-dose aspirin "
                                          "for pre-eclampsia prevention is recommended); with "
                                          "no dose stated it applies.")


class RenalStep(_Strict):
    """A stricter renal daily maximum below a lower eGFR/CrCl (mL/min)."""

    below: float = Field(gt=0, le=120)
    max_daily: DoseLimit


class IndicationCap(_Sourced):
    """A renal daily maximum that holds only for one indication, named by words in the
    conversation (rivaroxaban in atrial fibrillation: 15 mg once daily at CrCl 50 or less;
    the same 20 mg is right for VTE at that clearance)."""

    below: float = Field(gt=0, le=120, description="Applies when eGFR/CrCl is below this.")
    max_daily: DoseLimit
    when: list[str] = Field(min_length=1, description="Words (lower case) that name the "
                            "indication; the cap applies only when one is in the conversation.")


class OrganLimit(_Sourced):
    """Renal limits use eGFR or creatinine clearance in mL/min (``below``); hepatic limits use
    the severity of liver disease in which the level applies. ``max_daily`` is the lower
    daily maximum in that state (acetaminophen 2 g in cirrhosis): a dose above it is a
    dose mismatched to organ function."""

    level: Level
    max_daily: DoseLimit | None = None
    below: float | None = Field(default=None, gt=0, le=120,
                                description="Renal: applies when eGFR/CrCl is below this.")
    severity: Literal["any", "moderate", "severe"] = "any"
    steps: list[RenalStep] = Field(default_factory=list, description="Renal: lower daily "
                                   "maxima at lower kidney function (pregabalin: 300 mg below "
                                   "60, 150 mg below 30, 75 mg below 15), each below the last.")
    contraindicated_below: float | None = Field(
        default=None, gt=0, le=120, description="Renal: contraindicated below this eGFR/CrCl "
        "although the limit above it is a dose adjustment (dofetilide: 250 mcg twice daily "
        "below 60, 125 mcg below 40, contraindicated below 20).")
    indication_caps: list[IndicationCap] = Field(default_factory=list, description="Renal: "
                                                 "daily maxima for one indication only.")
    max_daily_per_kg: float | None = Field(
        default=None, gt=0, description="Renal: a daily maximum per kg of stated body weight "
        "in the unit of the drug's dose limits (enoxaparin below CrCl 30: 1 mg/kg once daily).")

    @model_validator(mode="after")
    def _steps_descend(self) -> OrganLimit:
        last_below, last_cap = self.below, self.max_daily
        for step in sorted(self.steps, key=lambda st: -st.below):
            if last_below is None or step.below >= last_below:
                raise ValueError("each renal step needs a 'below' lower than the limit's")
            if last_cap is not None and (step.max_daily.unit != last_cap.unit
                                         or step.max_daily.amount >= last_cap.amount):
                raise ValueError("each renal step needs a lower max_daily in the same unit")
            last_below, last_cap = step.below, step.max_daily
        if self.contraindicated_below is not None and (
                self.below is None or self.contraindicated_below >= self.below
                or self.level in ("contraindicated", "avoid")):
            raise ValueError("contraindicated_below needs an adjust/caution limit with a higher "
                             "'below'")
        return self


class Drug(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_]*$", description="Generic name (INN/USAN), "
                    "lowercase, underscores for spaces: the normalised name used everywhere.")
    names: list[str] = Field(default_factory=list, description="Other generic names and "
                             "abbreviations (paracetamol, APAP, ASA).")
    brands: list[str] = Field(default_factory=list)
    misspellings: list[str] = Field(default_factory=list)
    zh: list[str] = Field(default_factory=list, description="Chinese generic and brand names.")
    es: list[str] = Field(default_factory=list, description="Spanish generic names (WHO INN "
                          "Spanish list, DCI).")
    classes: list[str] = Field(min_length=1)
    doses: list[Dose] = Field(default_factory=list)
    min_age: AgeLimit | None = None
    pregnancy: ReproLimit | None = None
    lactation: ReproLimit | None = None
    renal: OrganLimit | None = None
    hepatic: OrganLimit | None = None
    cross_allergies: list[CrossAllergy] = Field(default_factory=list)
    genotype: list[GenotypeRisk] = Field(default_factory=list)
    washout: Washout | None = None
    criteria_caps: list[CriteriaCap] = Field(default_factory=list)
    extended_release: ExtendedRelease | None = None
    patch: Patch | None = None
    source: str = Field(min_length=8, description="Source of the names and classes.")

    @property
    def display(self) -> str:
        return self.id.replace("_", " ")

    def all_names(self) -> Iterator[str]:
        yield self.display
        yield from self.names
        yield from self.brands
        yield from self.misspellings
        yield from self.zh
        yield from self.es
        if self.extended_release is not None:
            yield from self.extended_release.names


class DrugClass(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_]*$")
    description: str = Field(min_length=3)
    parents: list[str] = Field(default_factory=list, description="Broader classes this one "
                               "belongs to: a rule on the parent applies to its members.")
    words: list[str] = Field(default_factory=list, description="How people name the class "
                             "itself in text ('blood thinner', 'SSRI', '降压药').")
    allergy_group: str | None = Field(default=None, min_length=8, description="Set (to its "
                                      "source) when an allergy to one member means avoiding "
                                      "every member (penicillins, sulfonamide antibiotics).")


class Side(_Strict):
    """One side of an interaction: a drug or a class (exactly one)."""

    drug: str | None = None
    drug_class: str | None = Field(default=None, alias="class")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _exactly_one(self) -> Side:
        if (self.drug is None) == (self.drug_class is None):
            raise ValueError("give exactly one of 'drug' or 'class'")
        return self

    @property
    def label(self) -> str:
        return (self.drug or self.drug_class or "").replace("_", " ")


class DoseCondition(_Strict):
    """The interaction applies only above this daily dose of ``drug`` (simvastatin above
    20 mg with amiodarone). When the conversation gives no dose, it applies."""

    drug: str
    amount: float = Field(gt=0)
    unit: Unit = "mg"


class Interaction(_Sourced):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    a: Side
    b: Side
    dose_above: DoseCondition | None = None
    separable: bool = Field(default=False, description="An absorption interaction managed by "
                            "taking the two hours apart (a fluoroquinolone with an antacid): not "
                            "reported when the text says the doses are spaced.")
    intended_when: list[str] = Field(default_factory=list, description="Words that show the "
                                     "combination is a deliberate, managed plan (warfarin "
                                     "'bridging' with a heparin): then it is not reported.")
    severity: Severity
    mechanism: str = Field(min_length=8)
    management: str = Field(min_length=8, description="What to do instead, in plain words.")


class _DrugOrClass(_Sourced):
    """An entry about one drug or one whole class (exactly one of ``drug`` and ``class``)."""

    drug: str | None = None
    drug_class: str | None = Field(default=None, alias="class")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _exactly_one(self) -> _DrugOrClass:
        if (self.drug is None) == (self.drug_class is None):
            raise ValueError("give exactly one of 'drug' or 'class'")
        return self


class HighAlert(_DrugOrClass):
    """ISMP high-alert medication: a drug or class, and the monitoring a dosing answer needs."""

    monitoring: str = Field(min_length=8)


class BeersEntry(_DrugOrClass):
    recommendation: Literal["avoid", "caution"]
    rationale: str = Field(min_length=8)
    danger: bool = Field(default=False, description="A strong 'avoid' whose harm in older "
                         "adults is direct and whose benefit rarely outweighs it (anticholinergic "
                         "hypnotics, benzodiazepines, long-acting sulfonylureas, muscle "
                         "relaxants): reported as the danger 'beers_avoid' instead of the "
                         "caution 'beers_older_adult'.")
    except_when: list[str] = Field(default_factory=list, description="Words (casefolded "
                                   "substrings) naming an indication the criterion exempts "
                                   "(a seizure disorder for a benzodiazepine): the finding "
                                   "is then the caution.")
    above_daily: DoseLimit | None = Field(default=None, description="The danger applies "
                                          "only above this stated daily dose (doxepin 6 mg "
                                          "or less for insomnia is exempt); with no dose "
                                          "stated it applies.")
    needs_dose: bool = Field(default=False, description="The danger needs a stated daily "
                             "dose above ``above_daily`` (digoxin above 0.125 mg/day); with "
                             "none stated the finding is the caution.")

    @model_validator(mode="after")
    def _danger_is_avoid(self) -> BeersEntry:
        if self.needs_dose and self.above_daily is None:
            raise ValueError("'needs_dose' needs 'above_daily'")
        if (self.danger or self.except_when or self.above_daily) and (
                self.recommendation != "avoid" or not self.danger):
            raise ValueError("'danger', 'except_when' and 'above_daily' go with "
                             "recommendation 'avoid' and danger: true")
        return self


class Component(_Strict):
    drug: str
    amount: float | None = Field(default=None, gt=0, description="Per tablet, capsule or "
                                 "dose unit of the product, when the product has one strength.")
    unit: Unit = "mg"


class Product(_Strict):
    """A named product: a combination (Percocet, NyQuil) or a brand with one fixed strength
    (Extra Strength Tylenol, 500 mg), so "8 Percocet a day" can be counted per component."""

    names: list[str] = Field(min_length=1)
    zh: list[str] = Field(default_factory=list)
    components: list[Component] = Field(min_length=1)
    volume_ml: float | None = Field(default=None, gt=0, le=30, description="A liquid: each "
                                    "component's amount is per this many mL (children's "
                                    "ibuprofen 100 mg per 5 mL), so a dose in mL or teaspoons "
                                    "converts to mg.")
    source: str = Field(min_length=8)
    note: str = ""


class _ClassesFile(_Strict):
    classes: list[DrugClass]


class _DrugsFile(_Strict):
    drugs: list[Drug]


class _ProductsFile(_Strict):
    products: list[Product]


class _InteractionsFile(_Strict):
    interactions: list[Interaction]


class _HighAlertFile(_Strict):
    high_alert: list[HighAlert]


class _BeersFile(_Strict):
    beers: list[BeersEntry]


@dataclass(frozen=True)
class DrugKB:
    """The validated knowledge base with its lookups. Build with ``DrugKB.load()``."""

    drugs: dict[str, Drug]
    classes: dict[str, DrugClass]
    interactions: tuple[Interaction, ...]
    high_alert: tuple[HighAlert, ...]
    beers: tuple[BeersEntry, ...]
    products: tuple[Product, ...]
    version: str
    """sha256 of every data file, in order: changes whenever any fact changes."""
    _class_members: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)
    _pairs: dict[tuple[str, str], tuple[Interaction, ...]] = field(default_factory=dict,
                                                                  repr=False)

    @classmethod
    @functools.cache
    def shared(cls) -> DrugKB:
        """The knowledge base shipped with the package, loaded once per process."""
        return cls.load(DATA_DIR)

    @classmethod
    def load(cls, root: Path) -> DrugKB:
        digest = hashlib.sha256()
        classes_list = _read(root / "classes.yaml", _ClassesFile, digest).classes
        drug_files = sorted((root / "drugs").glob("*.yaml"))
        inter_files = sorted((root / "interactions").glob("*.yaml"))
        drugs_by_file = [(p, _read(p, _DrugsFile, digest).drugs) for p in drug_files]
        inters_by_file = [(p, _read(p, _InteractionsFile, digest).interactions)
                          for p in inter_files]
        high = _read(root / "high_alert.yaml", _HighAlertFile, digest).high_alert
        beers = _read(root / "beers.yaml", _BeersFile, digest).beers
        products = _read(root / "products.yaml", _ProductsFile, digest).products

        classes: dict[str, DrugClass] = {}
        for c in classes_list:
            if c.id in classes:
                raise KBError(str(root / "classes.yaml"), f"class {c.id!r} defined twice")
            classes[c.id] = c
        for c in classes.values():
            for parent in c.parents:
                if parent not in classes:
                    raise KBError(str(root / "classes.yaml"),
                                  f"class {c.id!r} names unknown parent {parent!r}")

        drugs: dict[str, Drug] = {}
        names: dict[str, str] = {}
        for path, entries in drugs_by_file:
            for d in entries:
                if d.id in drugs:
                    raise KBError(str(path), f"drug {d.id!r} is defined twice")
                unknown = [c for c in d.classes if c not in classes]
                unknown += [x.allergen for x in d.cross_allergies
                            if x.allergen not in classes and x.allergen not in {
                                e.id for _, es in drugs_by_file for e in es}]
                if unknown:
                    raise KBError(str(path), f"drug {d.id!r}: unknown classes {unknown}")
                for name in d.all_names():
                    key = name.casefold()
                    if names.get(key, d.id) != d.id:
                        raise KBError(str(path), f"name {name!r} is used by {names[key]!r} "
                                      f"and {d.id!r}")
                    names[key] = d.id
                drugs[d.id] = d

        def side_ok(path: Path, what: str, drug: str | None, klass: str | None) -> None:
            if drug is not None and drug not in drugs:
                raise KBError(str(path), f"{what}: unknown drug {drug!r}")
            if klass is not None and klass not in classes:
                raise KBError(str(path), f"{what}: unknown class {klass!r}")

        interactions: list[Interaction] = []
        seen_ids: set[str] = set()
        for path, entries in inters_by_file:
            for i in entries:
                if i.id in seen_ids:
                    raise KBError(str(path), f"interaction id {i.id!r} is used twice")
                seen_ids.add(i.id)
                side_ok(path, i.id, i.a.drug, i.a.drug_class)
                side_ok(path, i.id, i.b.drug, i.b.drug_class)
                if i.dose_above is not None:
                    side_ok(path, i.id, i.dose_above.drug, None)
                interactions.append(i)
        for prod in products:
            for name in [*prod.names, *prod.zh]:
                if name.casefold() in names:
                    raise KBError(str(root / "products.yaml"), f"product name {name!r} is "
                                  f"also a name of drug {names[name.casefold()]!r}")
            for comp in prod.components:
                side_ok(root / "products.yaml", f"product {prod.names[0]!r}", comp.drug, None)
        for h in high:
            side_ok(root / "high_alert.yaml", "high_alert", h.drug, h.drug_class)
        for b in beers:
            side_ok(root / "beers.yaml", "beers", b.drug, b.drug_class)

        members = _class_members(drugs, classes)
        return cls(drugs=drugs, classes=classes, interactions=tuple(interactions),
                   high_alert=tuple(high), beers=tuple(beers), products=tuple(products),
                   version=digest.hexdigest()[:16], _class_members=members,
                   _pairs=_index_pairs(interactions, drugs, members))

    # ----------------------------------------------------------------- lookups
    def members(self, klass: str) -> frozenset[str]:
        """Drug ids in ``klass`` or any of its subclasses."""
        return self._class_members.get(klass, frozenset())

    def classes_of(self, drug: str) -> frozenset[str]:
        """The drug's classes and all their ancestors."""
        out: set[str] = set()
        todo = list(self.drugs[drug].classes)
        while todo:
            c = todo.pop()
            if c not in out:
                out.add(c)
                todo.extend(self.classes[c].parents)
        return frozenset(out)

    def interactions_between(self, a: str, b: str) -> tuple[Interaction, ...]:
        """Contraindicated or major interactions between drugs ``a`` and ``b`` (either order),
        most severe first."""
        key = (a, b) if a <= b else (b, a)
        return self._pairs.get(key, ())

    def high_alert_for(self, drug: str) -> HighAlert | None:
        classes = self.classes_of(drug)
        for h in self.high_alert:
            if h.drug == drug or (h.drug_class is not None and h.drug_class in classes):
                return h
        return None

    def beers_for(self, drug: str) -> BeersEntry | None:
        classes = self.classes_of(drug)
        found = [b for b in self.beers
                 if b.drug == drug or (b.drug_class is not None and b.drug_class in classes)]
        # the strictest entry: 'avoid' before 'caution', a danger before a caution (glyburide's
        # own entry before the sulfonylurea class's)
        found.sort(key=lambda b: (b.recommendation != "avoid", not b.danger))
        return found[0] if found else None

    def pair_count(self) -> int:
        """Distinct drug pairs covered by the interaction entries (class rules expanded)."""
        return len(self._pairs)


def _class_members(drugs: dict[str, Drug], classes: dict[str, DrugClass]
                   ) -> dict[str, frozenset[str]]:
    out: dict[str, set[str]] = {c: set() for c in classes}
    for d in drugs.values():
        todo = list(d.classes)
        seen: set[str] = set()
        while todo:
            c = todo.pop()
            if c in seen:
                continue
            seen.add(c)
            out[c].add(d.id)
            todo.extend(classes[c].parents)
    return {c: frozenset(m) for c, m in out.items()}


def _expand(side: Side, members: dict[str, frozenset[str]]) -> Iterable[str]:
    if side.drug is not None:
        return (side.drug,)
    return members.get(side.drug_class or "", frozenset())


def _index_pairs(interactions: Sequence[Interaction], drugs: dict[str, Drug],
                 members: dict[str, frozenset[str]]
                 ) -> dict[tuple[str, str], tuple[Interaction, ...]]:
    pairs: dict[tuple[str, str], list[Interaction]] = {}
    for i in interactions:
        for x in _expand(i.a, members):
            for y in _expand(i.b, members):
                if x == y:
                    continue
                key = (x, y) if x <= y else (y, x)
                bucket = pairs.setdefault(key, [])
                if i not in bucket:
                    bucket.append(i)
    rank = {"contraindicated": 0, "major": 1}
    return {k: tuple(sorted(v, key=lambda i: rank[i.severity])) for k, v in pairs.items()}


def _read(path: Path, model: type[Any], digest: Any) -> Any:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise KBError(str(path), f"cannot read: {exc.strerror}") from None
    digest.update(path.name.encode() + b"\0" + raw)
    text = raw.decode("utf-8")
    try:
        data = yaml.load(text, Loader=_LOADER)  # noqa: S506 (a safe loader)
    except yaml.YAMLError:
        parse_yaml(text, str(path), KBError)  # raises with the line
        raise
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = err["loc"]
        node, _ = parse_yaml(text, str(path), KBError)  # line numbers, only on error
        raise KBError(str(path), err["msg"], line=line_of(node, loc),
                      field=".".join(str(p) for p in loc)) from None


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
