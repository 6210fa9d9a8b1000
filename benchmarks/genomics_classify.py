"""Benchmark: classifying a 1,000,000-row MAF (+ SV and CNA files).

Reports, in one run on the same generated files:
  (a) rows classified per second in memory (ResistanceCaller.fit on the parsed
      canonical table; target >= 1,000,000 rows/s on 2 cores);
  (b) end-to-end `trkres classify` wall time (a subprocess: start-up, reading,
      classifying, writing every table) as a ratio to reading the same MAF with
      pandas' pyarrow engine alone (target <= 3x); also as a ratio to the same
      pandas read run as a command (start-up included), and the floor: a
      command that only reads the MAF with pyarrow and writes it back as TSV.

The MAF is GDC-like (22 columns, 10,000 samples from 5,000 patients with a
baseline and a progression sample each; 19,000 genes; realistic mix of
variant classes with private protein changes), with published resistance
mutations planted in some progression samples.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

AA = np.array(list("ACDEFGHIKLMNPQRSTVWY"))
PLANTED = [("NTRK1", "G595R"), ("NTRK1", "G667C"), ("NTRK3", "G623R"), ("KRAS", "G12D"),
           ("BRAF", "V600E"), ("NTRK1", "F589L")]  # fmt: skip


def generate(folder: Path, rows: int, seed: int = 7) -> dict[str, Path]:
    rng = np.random.default_rng(seed)
    n_patients = max(rows // 200, 10)
    samples = np.array([f"PT{p:05d}-{t}" for p in range(n_patients) for t in ("T0", "P1")])
    genes = np.array(
        [f"GENE{i:05d}" for i in range(19000)] + ["NTRK1", "NTRK3", "KRAS", "BRAF", "MET", "TP53"]
    )
    sample = samples[rng.integers(0, len(samples), rows)]
    gene = genes[rng.integers(0, len(genes), rows)]
    ref = AA[rng.integers(0, 20, rows)]
    alt = AA[rng.integers(0, 20, rows)]
    pos = rng.integers(1, 2000, rows).astype(str)
    vc = rng.choice(
        ["Missense_Mutation", "Silent", "Nonsense_Mutation", "Frame_Shift_Del", "Splice_Site", "In_Frame_Del"],
        rows, p=[0.70, 0.15, 0.05, 0.05, 0.02, 0.03],
    )  # fmt: skip
    hgvsp = np.char.add(np.char.add(np.char.add("p.", ref), pos), alt).astype(object)
    silent = vc == "Silent"
    hgvsp[silent] = np.char.add(
        np.char.add(np.char.add("p.", ref[silent]), pos[silent]), ref[silent]
    )
    stop = vc == "Nonsense_Mutation"
    hgvsp[stop] = np.char.add(np.char.add("p.", ref[stop]), np.char.add(pos[stop], "*"))
    fs = vc == "Frame_Shift_Del"
    hgvsp[fs] = np.char.add(np.char.add("p.", ref[fs]), np.char.add(pos[fs], "fs*12"))
    sp = vc == "Splice_Site"
    hgvsp[sp] = np.char.add(np.char.add("p.X", pos[sp]), "_splice")
    inf = vc == "In_Frame_Del"
    hgvsp[inf] = np.char.add(np.char.add("p.", ref[inf]), np.char.add(pos[inf], "del"))
    # Plant published resistance mutations in 20% of progression samples.
    prog = np.flatnonzero(np.char.endswith(sample.astype(str), "-P1"))[: rows // 100]
    planted = rng.integers(0, len(PLANTED), len(prog))
    for i, k in zip(prog, planted, strict=True):
        gene[i], hgvsp[i], vc[i] = PLANTED[k][0], "p." + PLANTED[k][1], "Missense_Mutation"
    depth = rng.integers(50, 1500, rows)
    alt_n = (depth * rng.beta(2, 8, rows)).astype(int)
    maf = pd.DataFrame(
        {
            "Hugo_Symbol": gene, "Entrez_Gene_Id": "0", "Center": "bench", "NCBI_Build": "GRCh38",
            "Chromosome": rng.integers(1, 23, rows).astype(str), "Start_Position": rng.integers(1, 10**8, rows),
            "End_Position": 0, "Strand": "+", "Variant_Classification": vc,
            "Variant_Type": np.where(fs | inf, "DEL", "SNP"), "Reference_Allele": "A",
            "Tumor_Seq_Allele1": "A", "Tumor_Seq_Allele2": "T", "Tumor_Sample_Barcode": sample,
            "HGVSc": "c.1A>T", "HGVSp": "", "HGVSp_Short": hgvsp.astype(str),
            "Transcript_ID": "ENST00000000001", "t_depth": depth, "t_ref_count": depth - alt_n,
            "t_alt_count": alt_n, "n_depth": 60,
        }
    )  # fmt: skip
    maf["End_Position"] = maf["Start_Position"]
    paths = {"maf": folder / "data_mutations.maf"}
    with paths["maf"].open("wb") as fh:
        fh.write(b"#version 2.4\n" + "\t".join(maf.columns).encode() + b"\n")
        pacsv.write_csv(pa.Table.from_pandas(maf, preserve_index=False), fh,
                        pacsv.WriteOptions(delimiter="\t", quoting_style="none", include_header=False))  # fmt: skip
    partners = np.array(["ETV6", "LMNA", "TPM3", "TPR"])
    kin = np.array(["NTRK1", "NTRK3"])
    pat = np.arange(n_patients)
    sv = pd.DataFrame(
        {
            "Sample_Id": samples,
            "Site1_Hugo_Symbol": np.repeat(partners[pat % 4], 2),
            "Site2_Hugo_Symbol": np.repeat(kin[pat % 2], 2),
            "Class": "FUSION",
        }
    )
    paths["sv"] = folder / "data_sv.txt"
    sv.to_csv(paths["sv"], sep="\t", index=False)
    cna_genes = [f"GENE{i:05d}" for i in range(99)] + ["MET"]
    matrix = rng.choice(
        [-2, -1, 0, 1, 2], (len(cna_genes), len(samples)), p=[0.01, 0.1, 0.78, 0.1, 0.01]
    )
    cna = pd.DataFrame(matrix, columns=samples)
    cna.insert(0, "Hugo_Symbol", cna_genes)
    paths["cna"] = folder / "data_cna.txt"
    cna.to_csv(paths["cna"], sep="\t", index=False)
    clinical = pd.DataFrame(
        {"SAMPLE_ID": samples, "PATIENT_ID": np.repeat([f"PT{p:05d}" for p in pat], 2),
         "SAMPLE_TYPE": np.tile(["tissue", "cfDNA"], n_patients), "COLLECTION_DAY": np.tile([-7, 200], n_patients)}
    )  # fmt: skip
    paths["clinical"] = folder / "data_clinical_sample.txt"
    clinical.to_csv(paths["clinical"], sep="\t", index=False)
    timeline = pd.DataFrame(
        {"PATIENT_ID": [f"PT{p:05d}" for p in pat], "START_DATE": 0, "STOP_DATE": 190,
         "EVENT_TYPE": "TREATMENT", "AGENT": np.where(pat % 2, "Larotrectinib", "Entrectinib"),
         "BEST_RESPONSE_THER": "PR"}
    )  # fmt: skip
    paths["timeline"] = folder / "data_timeline_treatment.txt"
    timeline.to_csv(paths["timeline"], sep="\t", index=False)
    return paths


def best_of(repeat: int, func) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    from trkres.genomics.caller import ResistanceCaller
    from trkres.genomics.pipeline import read_genomic_inputs
    from trkres.knowledge import load_knowledge

    kb = load_knowledge()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        paths = generate(folder, args.rows)
        print(f"generated {args.rows:,} MAF rows in {time.perf_counter() - t0:.1f} s "
              f"({paths['maf'].stat().st_size / 1e6:.0f} MB)")  # fmt: skip

        peer = best_of(
            args.repeat, lambda: pd.read_csv(paths["maf"], sep="\t", engine="pyarrow", skiprows=1)
        )
        inputs = read_genomic_inputs(
            kb, mafs=[paths["maf"]], svs=[paths["sv"]], cnas=[paths["cna"]],
            clinical=paths["clinical"], timeline=paths["timeline"],
        )  # fmt: skip
        alterations = inputs.alterations()
        n = len(alterations)
        fit = best_of(
            args.repeat,
            lambda: ResistanceCaller(kb).fit(
                alterations, inputs.samples, inputs.timeline, fusion_data=True
            ),
        )
        caller = ResistanceCaller(kb).fit(
            alterations, inputs.samples, inputs.timeline, fusion_data=True
        )
        cmd = [sys.executable, "-m", "trkres", "-q", "classify", "--maf", str(paths["maf"]),
               "--sv", str(paths["sv"]), "--cna", str(paths["cna"]), "--clinical", str(paths["clinical"]),
               "--timeline", str(paths["timeline"]), "-o", str(folder / "out")]  # fmt: skip
        env = {**os.environ, "PYTHONWARNINGS": "ignore"}

        def run_cli() -> None:
            subprocess.run(cmd, check=True, env=env)

        e2e = best_of(args.repeat, run_cli)
        # Two reference commands, each a fresh interpreter like `trkres classify`:
        # pandas reading the MAF (the peer, start-up included), and a floor that
        # only reads the MAF with pyarrow and writes it straight back as TSV (no
        # parsing, no classification, one output file where classify writes two).
        peer_cmd = [sys.executable, "-c",
                    "import sys, pandas as pd; pd.read_csv(sys.argv[1], sep='\\t', engine='pyarrow', skiprows=1)",
                    str(paths["maf"])]  # fmt: skip
        floor_cmd = [sys.executable, "-c",
                     "import sys, pyarrow.csv as c; t = c.read_csv(sys.argv[1], "
                     "read_options=c.ReadOptions(skip_rows=1), parse_options=c.ParseOptions(delimiter='\\t')); "
                     "c.write_csv(t, sys.argv[2], c.WriteOptions(delimiter='\\t', quoting_style='none'))",
                     str(paths["maf"]), str(folder / "copy.tsv")]  # fmt: skip
        peer_cli = best_of(args.repeat, lambda: subprocess.run(peer_cmd, check=True, env=env))
        floor = best_of(args.repeat, lambda: subprocess.run(floor_cmd, check=True, env=env))
        counted = int((caller.alterations_["counts_as"] != "").sum())
        results = {
            "maf_rows": args.rows,
            "canonical_rows_classified": n,
            "counted_resistance_alterations": counted,
            "pandas_pyarrow_read_s": round(peer, 3),
            "classify_in_memory_s": round(fit, 3),
            "rows_per_s_in_memory": round(n / fit),
            "trkres_classify_end_to_end_s": round(e2e, 3),
            "end_to_end_over_pandas_read": round(e2e / peer, 2),
            "pandas_read_command_s": round(peer_cli, 3),
            "end_to_end_over_pandas_read_command": round(e2e / peer_cli, 2),
            "floor_read_and_write_back_command_s": round(floor, 3),
            "floor_over_pandas_read": round(floor / peer, 2),
            "cores": os.cpu_count(),
        }
    width = max(map(len, results))
    print(f"{'measure':<{width}}  value")
    for key, value in results.items():
        print(
            f"{key:<{width}}  {value:,}" if isinstance(value, int) else f"{key:<{width}}  {value}"
        )
    print(
        f"\nin-memory classification: {results['rows_per_s_in_memory']:,} rows/s (target >= 1,000,000)"
    )
    print(
        f"end-to-end / pandas pyarrow read: {results['end_to_end_over_pandas_read']}x (target <= 3x)"
    )
    print(
        f"  (against pandas' read as a command, start-up included: "
        f"{results['end_to_end_over_pandas_read_command']}x)"
    )
    print(
        f"floor: a command that only reads the MAF and writes it back takes "
        f"{results['floor_over_pandas_read']}x the pandas read"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
