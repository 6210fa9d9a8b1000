"""Write the same published cases in every supported file format.

Cases (alterations and fusions as published; read counts illustrative):
Russo 2016 (LMNA-NTRK1, NTRK1 G595R + G667C after entrectinib), Drilon 2016
(ETV6-NTRK3, NTRK3 G623R), Cocco 2019 (NTRK fusion + KRAS G12D, + BRAF V600E,
+ MET amplification).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

THREE = {"G": "Gly", "R": "Arg", "C": "Cys", "D": "Asp", "V": "Val", "E": "Glu", "A": "Ala"}


@dataclass(frozen=True)
class Case:
    sample: str
    fusion: tuple[str, str]  # (5' partner, 3' kinase)
    mutations: tuple[tuple[str, str], ...]  # (gene, one-letter change)
    amplified: tuple[str, ...]
    mechanism: str
    strategies: str


CASES = [
    Case("RUSSO", ("LMNA", "NTRK1"), (("NTRK1", "G595R"), ("NTRK1", "G667C")), (), "on_target",
         "next_gen_type1_trki;type2_trki"),
    Case("DRILON", ("ETV6", "NTRK3"), (("NTRK3", "G623R"),), (), "on_target", "next_gen_type1_trki"),
    Case("KRAS", ("TPM3", "NTRK1"), (("KRAS", "G12D"),), (), "off_target", "trki_plus_meki"),
    Case("BRAF", ("ETV6", "NTRK3"), (("BRAF", "V600E"),), (), "off_target", "trki_plus_rafi_plus_meki"),
    Case("MET", ("LMNA", "NTRK1"), (), ("MET",), "off_target", "trki_plus_meti"),
]  # fmt: skip


def three_letter(change: str) -> str:
    return f"{THREE[change[0]]}{change[1:-1]}{THREE[change[-1]]}"


def write_maf(path: Path, style: str) -> Path:
    """style: hgvsp_short | hgvsp | protein_change | amino_acid_change."""
    column = {"hgvsp_short": "HGVSp_Short", "hgvsp": "HGVSp", "protein_change": "Protein_Change",
              "amino_acid_change": "Amino_Acid_Change"}[style]  # fmt: skip
    lines = [
        f"#version 2.4\nHugo_Symbol\tTumor_Sample_Barcode\tVariant_Classification\t{column}\tt_ref_count\tt_alt_count"
    ]
    for case in CASES:
        for gene, change in case.mutations:
            text = {"hgvsp_short": f"p.{change}", "hgvsp": f"p.{three_letter(change)}",
                    "protein_change": change, "amino_acid_change": f"p.{change}"}[style]  # fmt: skip
            lines.append(f"{gene}\t{case.sample}\tMissense_Mutation\t{text}\t900\t100")
    path.write_text("\n".join(lines) + "\n")
    return path


def write_vcf(path: Path, annotation: str) -> Path:
    """A multi-sample VCF annotated by VEP (CSQ) or SnpEff (ANN); one sample per case."""
    samples = [c.sample for c in CASES]
    if annotation == "csq":
        info = ('##INFO=<ID=CSQ,Number=.,Type=String,Description="Consequence annotations from '
                'Ensembl VEP. Format: Allele|Consequence|IMPACT|SYMBOL|Gene|Feature_type|Feature|'
                'BIOTYPE|HGVSc|HGVSp|CANONICAL">')  # fmt: skip
    else:
        info = ("##INFO=<ID=ANN,Number=.,Type=String,Description=\"Functional annotations: "
                "'Allele | Annotation | Annotation_Impact | Gene_Name | Gene_ID | Feature_Type | "
                "Feature_ID | Transcript_BioType | Rank | HGVS.c | HGVS.p | cDNA.pos / cDNA.length'\">")  # fmt: skip
    header = [
        "##fileformat=VCFv4.2",
        "##contig=<ID=1>",
        info,
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Allelic depths">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(samples),
    ]
    body = []
    pos = 1000
    for case in CASES:
        for gene, change in case.mutations:
            pos += 100
            hgvsp = f"ENSP00000000001.1:p.{three_letter(change)}"
            if annotation == "csq":
                # An off-canonical consequence first: the reader must pick the canonical one.
                other = f"T|missense_variant|MODERATE|{gene}|G|Transcript|ENST99999999999|protein_coding|c.1A>T|ENSP9:p.Ala1Thr|"
                main = f"T|missense_variant|MODERATE|{gene}|G|Transcript|{_tx(gene)}|protein_coding|c.1G>T|{hgvsp}|YES"
                value = f"CSQ={other},{main}"
            else:
                main = f"T|missense_variant|MODERATE|{gene}|G|transcript|{_tx(gene)}|protein_coding|1/10|c.1G>T|p.{three_letter(change)}|1/100"
                value = f"ANN={main}"
            genotypes = ["0/1:900,100" if s == case.sample else "0/0:1000,0" for s in samples]
            body.append(f"1\t{pos}\t.\tG\tT\t.\tPASS\t{value}\tGT:AD\t" + "\t".join(genotypes))
    path.write_text("\n".join(header + body) + "\n")
    return path


def _tx(gene: str) -> str:
    return {"NTRK1": "ENST00000524377", "NTRK2": "ENST00000277120", "NTRK3": "ENST00000360948"}.get(
        gene, "ENST00000000042"
    )


def write_fusions(folder: Path, style: str) -> list[Path]:
    """Fusion tables in one of the supported styles (some need one file per sample)."""
    folder.mkdir(parents=True, exist_ok=True)
    if style == "cbioportal_sv":
        lines = ["Sample_Id\tSite1_Hugo_Symbol\tSite2_Hugo_Symbol\tClass"]
        for i, c in enumerate(CASES):  # alternate the column order: the genes decide
            a, b = c.fusion if i % 2 else c.fusion[::-1]
            lines.append(f"{c.sample}\t{a}\t{b}\tFUSION")
        return [_write(folder / "data_sv.txt", lines)]
    if style == "cbioportal_fusions":
        lines = ["Hugo_Symbol\tTumor_Sample_Barcode\tFusion"]
        for c in CASES:
            name = f"{c.fusion[0]}-{c.fusion[1]} fusion"
            lines += [f"{c.fusion[0]}\t{c.sample}\t{name}", f"{c.fusion[1]}\t{c.sample}\t{name}"]
        return [_write(folder / "data_fusions.txt", lines)]
    if style == "oncokb":
        lines = ["Tumor_Sample_Barcode\tFusion"] + [
            f"{c.sample}\t{c.fusion[1]}-{c.fusion[0]}" for c in CASES
        ]
        return [_write(folder / "fusions.txt", lines)]
    if style in {"star_fusion", "pcgr", "colons", "underscores", "slash"}:
        column, sep = {"star_fusion": ("#FusionName", "--"), "pcgr": ("FusionGene", "--"),
                       "colons": ("FusionGene", "::"), "underscores": ("FusionGene", "__"),
                       "slash": ("FusionGene", "/")}[style]  # fmt: skip
        paths = []
        for c in CASES:  # no sample column: one file per sample, named after it
            a, b = c.fusion[::-1] if style == "pcgr" else c.fusion
            paths.append(
                _write(folder / f"{c.sample}.tsv", [f"{column}\tJunctionReads", f"{a}{sep}{b}\t12"])
            )
        return paths
    if style == "arriba":
        paths = []
        for c in CASES:
            paths.append(
                _write(
                    folder / f"{c.sample}.tsv",
                    ["#gene1\tgene2\tsplit_reads1", f"{c.fusion[0]}\t{c.fusion[1]}\t9"],
                )
            )
        return paths
    raise ValueError(style)


def write_cna(path: Path, style: str) -> Path:
    samples = [c.sample for c in CASES]
    if style == "gistic":
        lines = ["Hugo_Symbol\tEntrez_Gene_Id\t" + "\t".join(samples)]
        lines.append("MET\t4233\t" + "\t".join("2" if "MET" in c.amplified else "0" for c in CASES))
        lines.append("EGFR\t1956\t" + "\t".join("1" for _ in CASES))
        return _write(path, lines)
    if style == "oncokb":
        return _write(path, ["Tumor_Sample_Barcode\tHugo_Symbol\tCopy_Number_Alteration"] +
                      [f"{c.sample}\tMET\tAmplification" for c in CASES if "MET" in c.amplified])  # fmt: skip
    if style == "copies":
        return _write(path, ["gene\tsample\tcopy_number"] +
                      [f"MET\t{c.sample}\t{12 if 'MET' in c.amplified else 2}" for c in CASES])  # fmt: skip
    if style == "log2":
        return _write(path, ["gene\tsample\tlog2"] +
                      [f"MET\t{c.sample}\t{2.1 if 'MET' in c.amplified else 0.05}" for c in CASES])  # fmt: skip
    raise ValueError(style)


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path
