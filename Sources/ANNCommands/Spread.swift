/// How per-query figures read in reports (ann-query -v, ann-eval score --stats): the mean and
/// two percentiles, "mean 12.5, p50 11, p99 40".
func spread(_ values: [Int]) -> String {
    let sorted = values.sorted()
    let mean = Double(values.reduce(0, +)) / Double(max(1, values.count))
    return "mean \(fmt1(mean)), p50 \(percentile(sorted, 50)), p95 \(percentile(sorted, 95)), p99 \(percentile(sorted, 99))"
}

func percentile(_ sorted: [Int], _ p: Int) -> Int {
    sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, sorted.count * p / 100)]
}
