"""Images per second through HMAX S1 → C2: plastix (JAX) beside a plain NumPy/SciPy version.

Both compute the same layers with the standard parameters (16 S1 sizes × 4 orientations, 8 C1
bands, S2 prototypes of 4, 8, 12, 16 C1 units with "same" padding, C2) on 128 × 128 images of
digits at random places.  The NumPy/SciPy version (``benchmarks/references/numpy_hmax.py``)
is the straightforward one: one ``scipy.signal.correlate`` per filter and per prototype (SciPy
picks FFT or direct itself), ``scipy.ndimage.maximum_filter`` for C1, one image at a time.

Timings exclude JAX compilation (reported separately) and are the best of several runs, both
wall-clock and process CPU time (CPU time summed over threads: XLA uses every core, SciPy one).
On a shared machine the wall-clock numbers depend on the load (recorded); CPU time much less so.
Each stage is timed cumulatively (S1; S1 → C1; S1 → C2), so per-stage costs are differences.

    python benchmarks/hmax.py [--quick] [--prototypes 100] [--out results.json]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
from pathlib import Path

import jax
import numpy as np

from plastix.bench import best_seconds
from plastix import perception as px
from plastix.perception import layers

sys.path.insert(0, str(Path(__file__).resolve().parent / "references"))  # the NumPy baseline, from any working folder
import numpy_hmax as ref  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer images and repeats")
    parser.add_argument("--prototypes", type=int, default=100, help="S2 prototypes per patch size (4 sizes)")
    parser.add_argument("--size", type=int, default=128, help="image side in pixels")
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    args = parser.parse_args()

    config = px.HMAXConfig()
    batch = 16
    n_jax = 32 if args.quick else 64
    n_numpy = 2 if args.quick else 4
    repeats = 2 if args.quick else 5
    images = px.digit_images(max(1, n_jax // 10 + 1), args.size, "test", positions="random", heights=(24, 48), seed=0).images[:n_jax]
    protos = px.prototypes_from_images(images[:16], config, args.prototypes, jax.random.key(0))
    patches = protos.as_jax()
    chunks = [jax.numpy.asarray(images[i : i + batch]) for i in range(0, n_jax, batch)]

    stages = {
        "S1": lambda x: layers.s1_layer(x, config),
        "S1-C1": lambda x: layers._c1_from_images(x, config),
        "S1-C2": lambda x: layers._c2_from_images(x, patches, config),
    }
    results = {
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, {platform.system()}",
        "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "jax": jax.__version__, "backend": jax.default_backend(), "numpy": np.__version__,
        "image_size": args.size, "prototypes_per_size": args.prototypes, "batch": batch,
        "jax_images": n_jax, "numpy_images": n_numpy, "stages": {},
    }
    for name, fn in stages.items():
        start = time.perf_counter()
        jax.block_until_ready(fn(chunks[0]))
        compile_s = time.perf_counter() - start
        wall, cpu = best_seconds(lambda: [jax.block_until_ready(fn(c)) for c in chunks], repeats)
        results["stages"][name] = {
            "jax_s_per_image": wall / n_jax, "jax_cpu_s_per_image": cpu / n_jax, "jax_compile_s": compile_s,
        }

    def numpy_stage(name, img):
        s1 = ref.s1(img, config)
        if name == "S1":
            return s1
        c1 = ref.c1(s1, config)
        if name == "S1-C1":
            return c1
        return ref.c2(ref.s2(c1, protos.patches, config))

    for name in stages:
        wall, cpu = best_seconds(lambda: [numpy_stage(name, img) for img in images[:n_numpy]], max(2, repeats - 2))
        r = results["stages"][name]
        r["numpy_s_per_image"], r["numpy_cpu_s_per_image"] = wall / n_numpy, cpu / n_numpy
        r["speedup"] = r["numpy_s_per_image"] / r["jax_s_per_image"]
        r["cpu_speedup"] = r["numpy_cpu_s_per_image"] / r["jax_cpu_s_per_image"]

    # the two implementations agree (float32 JAX vs float64 SciPy)
    jax_c2 = px.c2_features(images[:n_numpy], config, protos, batch_size=batch)
    np_c2 = np.stack([numpy_stage("S1-C2", img) for img in images[:n_numpy]])
    results["max_abs_c2_difference"] = float(np.abs(jax_c2 - np_c2).max())

    print(f"HMAX S1→C2, {args.size}×{args.size} images, {4 * args.prototypes} prototypes, {results['machine']}, "
          f"load {results['load_average']}")
    print("| stage | plastix (JAX) images/s | NumPy/SciPy images/s | speed-up | "
          "JAX CPU ms/image | NumPy CPU ms/image | CPU-time ratio | JAX compile (s) |")
    print("|---|---|---|---|---|---|---|---|")
    for name, r in results["stages"].items():
        print(f"| {name} | {1 / r['jax_s_per_image']:.1f} | {1 / r['numpy_s_per_image']:.2f} | {r['speedup']:.1f}× | "
              f"{1e3 * r['jax_cpu_s_per_image']:.0f} | {1e3 * r['numpy_cpu_s_per_image']:.0f} | {r['cpu_speedup']:.1f}× | "
              f"{r['jax_compile_s']:.1f} |")
    print(f"max |C2 (JAX) − C2 (SciPy)| = {results['max_abs_c2_difference']:.2e}")
    if args.out:
        from plastix.runs import write_json

        write_json(args.out, results)


if __name__ == "__main__":
    main()
