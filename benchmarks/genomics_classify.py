"""Benchmark: `trkres classify` on a 1,000,000-row MAF (+ SV, CNA, clinical, timeline).

Measures, in one run on the same generated files:
  (a) the floor: a fresh interpreter that only reads the MAF with pyarrow and
      writes it back as TSV (start-up included);
  (b) `trkres classify` end to end (a subprocess: start-up, reading, classifying,
      writing every table and the annotated MAF), and its ratio to the floor
      (issue 13's target: <= 3x);
  (c) the phases of the same work in one process: reading (the MAF's pyarrow
      parse), normalising (the rest of reading every input into the canonical
      table), annotating, classifying (timing, clonality, therapies, sample and
      patient summaries), the cohort tables, the annotated inputs, writing;
  (d) rows classified per second in memory (ResistanceCaller.fit).
`uptime`'s load average is printed beside the timings: the machine is shared.

The MAF is GDC-like (22 columns, 10,000 samples from 5,000 patients with a
baseline and a progression sample each; 19,000 genes; realistic mix of
variant classes with private protein changes), with published resistance
mutations planted in some progression samples.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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


def load() -> str:
    """The 1-, 5- and 15-minute load averages (the machine is shared)."""
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def phases(paths: dict[str, Path], out: Path) -> dict[str, float]:
    """Wall seconds of each phase of a classification, in this process (one run)."""
    from trkres.genomics.annotate import Annotator
    from trkres.genomics.io.tables import read_delimited
    from trkres.genomics.pipeline import (
        class_frequencies,
        classify_inputs,
        mechanism_frequencies,
        read_genomic_inputs,
    )
    from trkres.knowledge import load_knowledge
    from trkres.outputs import write_tables

    times: dict[str, float] = {}

    def timed(name: str, func):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        value = func()
        times[name] = round(time.perf_counter() - t0, 3)
        return value

    kb = timed("knowledge", load_knowledge)
    timed("read_maf_parse", lambda: read_delimited(paths["maf"], what="MAF"))
    inputs = timed("read_and_normalise_all", lambda: read_genomic_inputs(
        kb, mafs=[paths["maf"]], svs=[paths["sv"]], cnas=[paths["cna"]],
        clinical=paths["clinical"], timeline=paths["timeline"],
    ))  # fmt: skip
    times["normalise"] = round(times["read_and_normalise_all"] - times["read_maf_parse"], 3)
    alterations = inputs.alterations()
    timed("annotate", lambda: Annotator(kb).annotate(alterations.reset_index(drop=True)))
    result = timed("annotate_and_classify", lambda: classify_inputs(inputs, kb))
    times["classify"] = round(times["annotate_and_classify"] - times["annotate"], 3)
    tables = timed("cohort_tables", lambda: {
        "mechanisms": mechanism_frequencies(result.patients),
        "classes": class_frequencies(result.alterations, result.patients),
        "issues": result.issues_frame(),
    })  # fmt: skip
    annotated = timed("annotated_inputs", result.annotated_inputs)
    from trkres.genomics.pipeline import ALTERATION_OUTPUT

    every = {"alterations": result.alterations[ALTERATION_OUTPUT], "samples": result.samples,
             "patients": result.patients, **tables,
             **{f"annotated/{k}": v for k, v in annotated.items()}}  # fmt: skip
    timed("write_tables", lambda: write_tables(out, every))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--text", type=Path, help="also write the printed report here")
    args = parser.parse_args()

    from trkres.genomics.caller import ResistanceCaller
    from trkres.genomics.pipeline import read_genomic_inputs
    from trkres.knowledge import load_knowledge

    lines: list[str] = []

    def say(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    kb = load_knowledge()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        paths = generate(folder, args.rows)
        say(f"generated {args.rows:,} MAF rows in {time.perf_counter() - t0:.1f} s "
            f"({paths['maf'].stat().st_size / 1e6:.0f} MB); load {load()}")  # fmt: skip
        env = {**os.environ, "PYTHONWARNINGS": "ignore"}
        # The floor: a fresh interpreter that reads the MAF with pyarrow and writes it
        # straight back as TSV (no parsing, no classification, one output file).
        floor_cmd = [sys.executable, "-c",
                     "import sys, pyarrow.csv as c; t = c.read_csv(sys.argv[1], "
                     "read_options=c.ReadOptions(skip_rows=1), parse_options=c.ParseOptions(delimiter='\\t')); "
                     "c.write_csv(t, sys.argv[2], c.WriteOptions(delimiter='\\t', quoting_style='none'))",
                     str(paths["maf"]), str(folder / "copy.tsv")]  # fmt: skip
        cmd = [sys.executable, "-m", "trkres", "-q", "classify", "--maf", str(paths["maf"]),
               "--sv", str(paths["sv"]), "--cna", str(paths["cna"]), "--clinical", str(paths["clinical"]),
               "--timeline", str(paths["timeline"]), "-o", str(folder / "out")]  # fmt: skip
        # Interleaved, best of each: both see the same machine load.
        floors, e2es, floor_cpus, e2e_cpus = [], [], [], []
        for _ in range(args.repeat):
            for command, walls, cpus in ((floor_cmd, floors, floor_cpus), (cmd, e2es, e2e_cpus)):
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                walls.append(best_of(1, lambda c=command: subprocess.run(c, check=True, env=env)))
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        floor, e2e = min(floors), min(e2es)
        floor_cpu, e2e_cpu = min(floor_cpus), min(e2e_cpus)
        say(
            f"floor (read + write back, a command): {floor:.2f} s ({floor_cpu:.2f} CPU s); load {load()}"
        )
        say(
            f"trkres classify end to end:          {e2e:.2f} s ({e2e_cpu:.2f} CPU s); load {load()}"
        )
        t0 = time.perf_counter()
        times = phases(paths, folder / "phases")
        in_process = time.perf_counter() - t0
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
        counted = int((caller.alterations_["counts_as"] != "").sum())
        results: dict[str, object] = {
            "maf_rows": args.rows,
            "canonical_rows_classified": n,
            "counted_resistance_alterations": counted,
            "floor_read_and_write_back_command_s": round(floor, 3),
            "trkres_classify_end_to_end_s": round(e2e, 3),
            "end_to_end_over_floor": round(e2e / floor, 2),
            "floor_cpu_s": round(floor_cpu, 3),
            "end_to_end_cpu_s": round(e2e_cpu, 3),
            "end_to_end_over_floor_cpu": round(e2e_cpu / floor_cpu, 2),
            "floor_runs_s": [round(t, 3) for t in floors],
            "end_to_end_runs_s": [round(t, 3) for t in e2es],
            "phases_in_process_s": times,
            "phases_total_s": round(in_process, 3),
            "classify_in_memory_s": round(fit, 3),
            "rows_per_s_in_memory": round(n / fit),
            "cores": os.cpu_count(),
            "load_average_at_end": load(),
        }
    say("")
    width = max(map(len, results))
    for key, value in results.items():
        if isinstance(value, dict):
            say(f"{key}:")
            for k, v in value.items():
                say(f"  {k:<{width - 2}}  {v}")
        else:
            say(
                f"{key:<{width}}  {value:,}"
                if isinstance(value, int)
                else f"{key:<{width}}  {value}"
            )
    say(f"\nend to end / floor: {results['end_to_end_over_floor']}x (target <= 3x)")
    say(f"CPU seconds, end to end / floor: {results['end_to_end_over_floor_cpu']}x")
    say(f"in-memory classification: {results['rows_per_s_in_memory']:,} rows/s")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    if args.text:
        args.text.parent.mkdir(parents=True, exist_ok=True)
        args.text.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
