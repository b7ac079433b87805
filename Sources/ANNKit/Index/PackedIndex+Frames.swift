extension PackedIndex {
    /// The compressed frames of some clusters, read together: one wave of requests in flight at
    /// once on a remote store. Each frame is checked when decoded (`decode`), not here.
    public final class Frames {
        public let clusters: [Int]
        private let buffer: UnsafeMutableRawBufferPointer
        private let starts: [Int]

        init(clusters: [Int], sizes: [Int]) {
            self.clusters = clusters
            var starts = [Int]()
            starts.reserveCapacity(sizes.count + 1)
            var at = 0
            for s in sizes { starts.append(at); at += s }
            starts.append(at)
            self.starts = starts
            buffer = .allocate(byteCount: max(at, 1), alignment: 16)
        }

        deinit { buffer.deallocate() }

        /// The frame of `clusters[i]`.
        public func frame(_ i: Int) -> UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(rebasing: buffer[starts[i]..<starts[i + 1]])
        }

        func slot(_ i: Int) -> UnsafeMutableRawBufferPointer {
            UnsafeMutableRawBufferPointer(rebasing: buffer[starts[i]..<starts[i + 1]])
        }
    }

    /// Reads the frames of `clusters` with one call to the storage (one wave of requests on a
    /// remote store, close frames coalesced). A frame shorter than the directory says is a
    /// truncated index.
    public func readFrames(_ clusters: [Int]) throws -> Frames {
        let frames = Frames(clusters: clusters, sizes: clusters.map { entries[$0].size })
        let ranges = clusters.map { entries[$0].offset..<(entries[$0].offset + entries[$0].size) }
        let got = try storage.read(ranges: ranges, into: clusters.indices.map { frames.slot($0) })
        for (i, c) in clusters.enumerated() where got[i] != entries[c].size {
            throw ANNError.badData(source: name, message: "cluster \(c): truncated frame (\(got[i]) of \(entries[c].size) bytes)")
        }
        return frames
    }

    /// The requests that reading the frames of `clusters` together takes on this storage: one
    /// per frame where nothing is coalesced (a local file), without building the ranges.
    public func requests(for clusters: [Int]) -> Int {
        guard storage.coalescingGap != nil else { return clusters.count }
        return storage.requests(for: clusters.map { entries[$0].offset..<(entries[$0].offset + entries[$0].size) })
    }

    /// The most compressed bytes one wave of `readFrames` holds in memory.
    public static let waveBytes = 256 << 20

    /// `clusters` in consecutive waves of at most `maxBytes` of frames (at least one cluster
    /// each), for `readFrames`.
    public func waves(of clusters: [Int], maxBytes: Int = PackedIndex.waveBytes) -> [[Int]] {
        var out = [[Int]](), current = [Int](), bytes = 0
        for c in clusters {
            if !current.isEmpty && bytes + entries[c].size > maxBytes { out.append(current); current = []; bytes = 0 }
            current.append(c)
            bytes += entries[c].size
        }
        if !current.isEmpty { out.append(current) }
        return out
    }
}
