/// Reads vectors into memory, all of them or a uniform random sample in input order. From a
/// file that can be read by position the sample's records alone are read (Knuth's selection
/// sampling picks them: one random draw per record, no pass over the data); from a pipe or a
/// compressed input, in one pass (reservoir sampling), which draws another sample.
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
        if reader.readsByPosition, let total = reader.count, m < total {
            return try readByPosition(reader, size: m, total: total, seed: seed, progress: progress)
        }
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

    /// A sample of `m` of the `total` records of a file read by position: record t is taken
    /// with probability (records still wanted) / (records left), which draws every m-subset
    /// with the same chance, in input order.
    private static func readByPosition(_ reader: VectorReader, size m: Int, total: Int, seed: UInt64,
                                       progress: (Int) -> Void) throws -> Sample {
        let d = reader.dim
        var rng = RandomGenerator(seed: seed)
        var positions = [Int]()
        positions.reserveCapacity(m)
        var t = 0
        while positions.count < m {
            if rng.below(total - t) < m - positions.count { positions.append(t) }
            t += 1
        }
        // m < total, and total is backed by the file's length: the sample may be allocated.
        var data = [Float](repeating: 0, count: m * d)
        let block = 4096
        try data.withUnsafeMutableBufferPointer { out in
            for lo in stride(from: 0, to: m, by: block) {
                let hi = min(m, lo + block)
                try reader.read(positions: positions[lo..<hi], into: out.baseAddress! + lo * d)
                progress(hi)
            }
        }
        return Sample(data: data, count: m, total: total)
    }
}
