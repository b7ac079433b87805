/// Reads vectors into memory, all of them or a uniform random sample (reservoir sampling,
/// one pass, so it works on pipes and compressed input). The sample keeps input order.
public enum Sampler {
    public struct Sample {
        /// `count × dim` floats.
        public var data: [Float]
        public var count: Int
        /// How many vectors the input held.
        public var total: Int
    }

    /// `size` nil keeps everything. `progress` receives the records read so far.
    public static func read(_ reader: VectorReader, size: Int?, seed: UInt64,
                            progress: (Int) -> Void = { _ in }) throws -> Sample {
        let d = reader.dim
        if size == nil {
            let all = try reader.readAll()
            return Sample(data: all, count: all.count / d, total: all.count / d)
        }
        let m = size!
        // Every buffer grows with the vectors that actually arrive: neither the dimension
        // nor the sample size asked for may allocate ahead of the data.
        let block = max(1, min(8192, (1 << 22) / d))
        var buf = [Float](repeating: 0, count: block * d)
        var rng = RandomGenerator(seed: seed)
        var data = [Float]()
        var order = [Int]()
        var seen = 0
        while true {
            let n = try buf.withUnsafeMutableBufferPointer { try reader.read(into: $0.baseAddress!, maxCount: block) }
            if n == 0 { break }
            for r in 0..<n {
                if seen < m {
                    order.append(seen)
                    data.append(contentsOf: buf[(r * d)..<((r + 1) * d)])
                    seen += 1
                    continue
                }
                let slot = rng.below(seen + 1)
                if slot >= m { seen += 1; continue }
                order[slot] = seen
                data.withUnsafeMutableBufferPointer { dst in
                    buf.withUnsafeBufferPointer { src in
                        (dst.baseAddress! + slot * d).update(from: src.baseAddress! + r * d, count: d)
                    }
                }
                seen += 1
            }
            progress(seen)
        }
        let kept = min(seen, m)
        if kept < m { return Sample(data: data, count: kept, total: seen) }
        // Back to input order, so the sample does not depend on replacement history.
        let perm = (0..<m).sorted { order[$0] < order[$1] }
        var sorted = [Float](repeating: 0, count: m * d)
        for (i, p) in perm.enumerated() {
            sorted.replaceSubrange((i * d)..<((i + 1) * d), with: data[(p * d)..<((p + 1) * d)])
        }
        return Sample(data: sorted, count: m, total: seen)
    }
}
