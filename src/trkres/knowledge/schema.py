"""The schema of the trkres knowledge base (pydantic models).

A *fact* is any entry a report may rely on: it carries an ``id``, a
``status`` (``verified`` or ``needs_review``) and at least one piece of
``evidence`` (a source id, a short statement and a level). Facts marked
unverified in the curated notes are ``needs_review``; reports show them so.

The knowledge base is split into *topics* (genes, kinase positions, drugs,
...). A knowledge file holds any subset of topics; files are merged by id,
later files overriding earlier ones (that is how a lab adds its own facts).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Status = Literal["verified", "needs_review"]

#: How strong a piece of evidence is. ``regulatory``: a drug label or an
#: OncoKB R1/1 level; ``clinical``: patients (trials, case series);
#: ``preclinical``: cell lines, PDX, biochemistry; ``expert``: reviews, curated
#: notes, nomenclature; ``lab``: a lab's own unpublished data.
EvidenceLevel = Literal["regulatory", "clinical", "preclinical", "expert", "lab"]

AlterationClassId = Literal[
    "solvent_front",
    "gatekeeper",
    "xdfg",
    "kinase_domain_other",
    "mapk_bypass",
    "other_bypass",
    "fusion_driver",
]
ON_TARGET_CLASSES: frozenset[str] = frozenset(
    {"solvent_front", "gatekeeper", "xdfg", "kinase_domain_other"}
)
OFF_TARGET_CLASSES: frozenset[str] = frozenset({"mapk_bypass", "other_bypass"})

AlterationType = Literal["mutation", "amplification", "deletion", "truncating", "fusion"]
GeneRole = Literal[
    "trk_kinase", "mapk_pathway", "other_bypass", "fusion_partner", "clonal_haematopoiesis"
]
DrugClass = Literal[
    "trk_inhibitor",
    "mek_inhibitor",
    "raf_inhibitor",
    "met_inhibitor",
    "igf1r_inhibitor",
    "multikinase_inhibitor",
]

_ID = r"^[a-z0-9][a-z0-9_.\-]*$"
_GENE = r"^[A-Z0-9][A-Z0-9\-.]*$"
_RESIDUE_RE = re.compile(r"^([ACDEFGHIKLMNPQRSTVWY])([1-9][0-9]*)$")
_CHANGE_RE = re.compile(r"^([ACDEFGHIKLMNPQRSTVWY])([1-9][0-9]*)([ACDEFGHIKLMNPQRSTVWY*])$")

FactId = Annotated[str, Field(pattern=_ID, description="lower-case id, unique within its topic")]
GeneSymbol = Annotated[str, Field(pattern=_GENE, description="HGNC gene symbol")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    """A citable source. At least one of ``pmid``, ``doi`` or ``url`` should be set;
    the validator warns when none is."""

    id: FactId
    citation: str = Field(min_length=5, description="authors, journal, year, volume:page")
    pmid: Annotated[str, Field(pattern=r"^[0-9]{6,9}$")] | None = None
    doi: Annotated[str, Field(pattern=r"^10\.[0-9]{4,9}/\S+$")] | None = None
    url: Annotated[str, Field(pattern=r"^https?://\S+$")] | None = None
    status: Status = "verified"
    note: str | None = None
    origin: str = "trkres"


class Evidence(_Strict):
    """One piece of evidence behind a fact."""

    source: FactId
    statement: str = Field(min_length=3)
    level: EvidenceLevel
    oncokb_level: Annotated[str, Field(pattern=r"^(1|2|3A|3B|4|R1|R2)$")] | None = None


class Fact(_Strict):
    """Fields every fact shares."""

    id: FactId
    status: Status
    evidence: list[Evidence] = Field(min_length=1)
    note: str | None = None
    #: ``trkres`` for shipped facts, else the path of the file that added it.
    origin: str = "trkres"


class Transcript(_Strict):
    ensembl: Annotated[str, Field(pattern=r"^ENST[0-9]{11}(\.[0-9]+)?$")] | None = None
    refseq: Annotated[str, Field(pattern=r"^NM_[0-9]+(\.[0-9]+)?$")] | None = None
    role: Literal["canonical", "mane_select"] = "canonical"


class Gene(Fact):
    """A gene trkres reasons about, with the transcript its numbering uses."""

    symbol: GeneSymbol
    name: str | None = None
    aliases: list[str] = Field(default_factory=list)
    roles: list[GeneRole] = Field(min_length=1)
    transcripts: list[Transcript] = Field(default_factory=list)


class AlterationClass(Fact):
    """A resistance class and which side of the TRK kinase it acts on."""

    id: AlterationClassId
    label: str
    target: Literal["on_target", "off_target", "driver"]
    description: str


def parse_residue(text: str) -> tuple[str, int]:
    """``"G595"`` → ``("G", 595)``; raises ``ValueError`` otherwise."""
    m = _RESIDUE_RE.match(text)
    if not m:
        raise ValueError(f"expected a residue such as G595, found {text!r}")
    return m.group(1), int(m.group(2))


def parse_change(text: str) -> tuple[str, int, str]:
    """``"G595R"`` → ``("G", 595, "R")``; raises ``ValueError`` otherwise."""
    m = _CHANGE_RE.match(text)
    if not m:
        raise ValueError(f"expected a substitution such as G595R, found {text!r}")
    return m.group(1), int(m.group(2)), m.group(3)


class PositionResidue(_Strict):
    """The residue at an equivalent kinase position in one paralog."""

    residue: str
    status: Status

    @field_validator("residue")
    @classmethod
    def _residue(cls, value: str) -> str:
        parse_residue(value)
        return value


class KinasePosition(Fact):
    """One row of the NTRK1/2/3 equivalence table of kinase-domain positions.

    The paralog offset is not constant (NTRK1→NTRK3 is +28 at the solvent
    front and gatekeeper, +29 at xDFG), so each paralog's residue is listed.
    A fact's own ``status`` is that of the position as a resistance site; each
    residue carries the status of its paralog mapping.
    """

    alteration_class: Literal["solvent_front", "gatekeeper", "xdfg", "kinase_domain_other"]
    residues: dict[Literal["NTRK1", "NTRK2", "NTRK3"], PositionResidue] = Field(min_length=1)


class ResistanceMutation(Fact):
    """A kinase-domain substitution reported in TRK-inhibitor resistance."""

    gene: Literal["NTRK1", "NTRK2", "NTRK3"]
    change: str
    position: FactId
    resistant_to: list[str] = Field(default_factory=list)

    @field_validator("change")
    @classmethod
    def _change(cls, value: str) -> str:
        parse_change(value)
        return value


class BypassAlteration(Fact):
    """An off-target alteration class member (gene + what happens to it).

    For ``mutation``: ``changes`` lists exact substitutions (``V600E``) and
    ``residues`` whole hotspot residues (``G12``: any substitution there);
    both empty means any protein-altering mutation of the gene.
    """

    gene: GeneSymbol
    alteration_type: AlterationType
    alteration_class: Literal["mapk_bypass", "other_bypass"]
    changes: list[str] = Field(default_factory=list)
    residues: list[str] = Field(default_factory=list)
    label: str

    @field_validator("changes")
    @classmethod
    def _changes(cls, values: list[str]) -> list[str]:
        for v in values:
            parse_change(v)
        return values

    @field_validator("residues")
    @classmethod
    def _residues(cls, values: list[str]) -> list[str]:
        for v in values:
            parse_residue(v)
        return values


class Drug(Fact):
    """A drug with its synonyms and classes."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9\- ]*$")]
    synonyms: list[str] = Field(default_factory=list)
    classes: list[DrugClass] = Field(min_length=1)
    trk_binding: Literal["type1", "type2"] | None = None
    trk_generation: Literal["first", "next"] | None = None


class Potency(Fact):
    """How strongly a drug inhibits one target form, in one assay (nM).

    ``value_nm`` is the figure the source gives (a representative value for a range,
    ``low_nm``–``high_nm``); ``qualifier`` keeps ``>``/``<`` bounds honest. The
    signalling model reads these for its drug potencies and says which fact it used.
    """

    drug: FactId
    target: Literal["TRK", "MEK", "BRAF_V600E", "MET"]
    kinase_form: Literal["wild_type", "solvent_front", "gatekeeper", "xdfg"] = "wild_type"
    assay: Literal["enzyme", "cell"]
    value_nm: float = Field(gt=0)
    low_nm: float | None = Field(default=None, gt=0)
    high_nm: float | None = Field(default=None, gt=0)
    qualifier: Literal["=", ">", "<"] = "="
    context: str = ""


class StrategyDrug(_Strict):
    drug: str
    status: Status


class TherapyStrategy(Fact):
    """A candidate next therapy: a combination of drug classes."""

    label: str
    drug_classes: list[str] = Field(min_length=1)
    example_drugs: list[StrategyDrug] = Field(default_factory=list)


class RuleCondition(_Strict):
    """Which counted alterations a therapy rule applies to: all the given fields must
    match (an empty list matches anything). ``facts`` names the knowledge entries
    (``resistance_mutations``/``bypass_alterations`` ids, e.g. ``braf_v600e``) whose
    alterations the rule's evidence is about."""

    alteration_class: AlterationClassId
    genes: list[GeneSymbol] = Field(default_factory=list)
    alteration_types: list[AlterationType] = Field(default_factory=list)
    facts: list[FactId] = Field(default_factory=list)


class TherapyRule(Fact):
    """Maps a resistance mechanism to candidate next therapy strategies."""

    when: RuleCondition
    strategies: list[FactId] = Field(min_length=1)


class ResidueMap(Fact):
    """Explicit residue renumbering from one transcript to the conventional numbering.

    Only the listed residues are mapped (``V640: V600``): offsets between
    transcripts are never assumed.
    """

    gene: GeneSymbol
    transcript: Annotated[str, Field(pattern=r"^(NM_[0-9]+|ENST[0-9]{11})$")]
    pairs: dict[str, str] = Field(min_length=1)

    @field_validator("pairs")
    @classmethod
    def _pairs(cls, values: dict[str, str]) -> dict[str, str]:
        for a, b in values.items():
            if parse_residue(a)[0] != parse_residue(b)[0]:
                raise ValueError(f"{a} -> {b} changes the amino acid")
        return values


#: The standard genetic code (coding-strand DNA codon → one-letter amino acid, ``*`` stop).
_BASES = "TCAG"
_AMINO = "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG"
GENETIC_CODE: dict[str, str] = {
    a + b + c: _AMINO[16 * i + 4 * j + k]
    for i, a in enumerate(_BASES)
    for j, b in enumerate(_BASES)
    for k, c in enumerate(_BASES)
}


def translate(codon: str) -> str:
    """One-letter amino acid of a codon; ``N`` allowed where every base gives the same one.

    Raises ``ValueError`` for a codon whose ``N`` is not synonymous.
    """
    options = {GENETIC_CODE[c] for c in _expand(codon.upper())}
    if len(options) != 1:
        raise ValueError(f"codon {codon} is ambiguous: {sorted(options)}")
    return options.pop()


def _expand(codon: str) -> list[str]:
    out = [""]
    for base in codon:
        out = [o + b for o in out for b in ("ACGT" if base == "N" else base)]
    return out


class CodonLocus(_Strict):
    """Where a codon lies on one genome build (1-based, forward-strand coordinates).

    ``start`` is the lowest coordinate of the three bases; on the ``-`` strand
    the codon's first base is ``start + 2``. ``status`` says whether real data
    carrying both the coordinate and the protein change confirmed it.
    """

    chromosome: Annotated[str, Field(pattern=r"^([1-9]|1[0-9]|2[0-2]|X|Y)$")]
    start: int = Field(ge=1)
    status: Status
    checked: str | None = None


class HotspotCodon(Fact):
    """The genomic location of a hotspot residue's codon, so a MAF without any
    protein-change column can still name the change (minimal MAFs).

    ``codon`` is the reference codon on the coding strand; ``N`` marks a base
    that is not needed because every base there gives the same amino acid
    (the third base of GGN glycine). The reference base of each MAF row is
    checked against it: a mismatch is reported, never translated.
    """

    gene: GeneSymbol
    residue: str
    strand: Literal["+", "-"]
    codon: Annotated[str, Field(pattern=r"^[ACGTN]{3}$")]
    grch37: CodonLocus | None = None
    grch38: CodonLocus | None = None

    @field_validator("residue")
    @classmethod
    def _residue(cls, value: str) -> str:
        parse_residue(value)
        return value

    @model_validator(mode="after")
    def _codon_matches(self) -> HotspotCodon:
        amino = translate(self.codon)
        if amino != parse_residue(self.residue)[0]:
            raise ValueError(f"codon {self.codon} encodes {amino}, not {self.residue[0]}")
        if self.grch37 is None and self.grch38 is None:
            raise ValueError("a hotspot codon needs a grch37 or grch38 location")
        return self


TOPICS: dict[str, type[BaseModel]] = {
    "sources": Source,
    "genes": Gene,
    "alteration_classes": AlterationClass,
    "kinase_positions": KinasePosition,
    "resistance_mutations": ResistanceMutation,
    "bypass_alterations": BypassAlteration,
    "drugs": Drug,
    "therapy_strategies": TherapyStrategy,
    "therapy_rules": TherapyRule,
    "residue_maps": ResidueMap,
    "hotspot_codons": HotspotCodon,
    "potencies": Potency,
}


class KnowledgeFile(_Strict):
    """One knowledge YAML file: a version and any subset of the topics."""

    schema_version: Literal[1] = 1
    version: str | None = None
    description: str | None = None
    sources: list[Source] = Field(default_factory=list)
    genes: list[Gene] = Field(default_factory=list)
    alteration_classes: list[AlterationClass] = Field(default_factory=list)
    kinase_positions: list[KinasePosition] = Field(default_factory=list)
    resistance_mutations: list[ResistanceMutation] = Field(default_factory=list)
    bypass_alterations: list[BypassAlteration] = Field(default_factory=list)
    drugs: list[Drug] = Field(default_factory=list)
    therapy_strategies: list[TherapyStrategy] = Field(default_factory=list)
    therapy_rules: list[TherapyRule] = Field(default_factory=list)
    residue_maps: list[ResidueMap] = Field(default_factory=list)
    hotspot_codons: list[HotspotCodon] = Field(default_factory=list)
    potencies: list[Potency] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _mapping(cls, data: object) -> object:
        if data is None:
            return {}
        return data
