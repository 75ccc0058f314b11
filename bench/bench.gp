# Chart of a tablefs benchmark run: gnuplot -e "outdir='bench/out'" bench/bench.gp
# Reads the .dat files bench/tfbench.py writes into outdir; draws outdir/bench.png.
if (!exists("outdir")) outdir = "bench/out"
# Sizes and date of the run, written by tfbench.py.
load outdir."/labels.gp"

set terminal pngcairo noenhanced size 1400,1000 font "sans,10"
set output outdir."/bench.png"
set multiplot layout 2,2 title "tablefs benchmark, ".when.": ".table." table of float64 columns (results.json)" font "sans,13"

set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set key top right
set xtics nomirror
set yrange [0:*]

set title "1-2. np.memmap scan and write of the ".table." table (GiB/s, median; higher is better)"
set ylabel "GiB/s"
plot outdir."/throughput.dat" using 2:xtic(1) title "scan cold", \
     '' using 3 title "scan warm", \
     '' using 4 title "write, first touch", \
     '' using 5 title "write, overwrite"

set title "4. hand-off of a ".handoff." table to ".workers." workers (s, median, log scale; lower is better)"
set ylabel "seconds"
set logscale y
set yrange [*:*]
set xtics font "sans,9"
plot outdir."/handoff.dat" using 2:xtic(1) title "row range per worker", \
     '' using 3 title "whole table per worker"
unset logscale y
set yrange [0:*]
set xtics font "sans,10"

set title "3. attach in a fresh process: meta.json + np.memmap of each column (ms, median)"
set ylabel "ms"
plot outdir."/attach.dat" using 2:xtic(1) title small." table", \
     '' using 3 title table." table", \
     1.0 with lines dt 2 lw 2 title "target: 1 ms"

set title "6. RAM per table byte after fill + scan (lower is better)"
set ylabel "bytes of RAM / table byte"
set yrange [0:2.5]
plot outdir."/memory.dat" using 2:xtic(1) title "(delta Shmem + delta other Cached) / bytes", \
     1.05 with lines dt 2 lw 2 title "target for passthrough: 1.05"

unset multiplot
