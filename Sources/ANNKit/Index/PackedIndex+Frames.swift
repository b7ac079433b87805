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

    /// The requests that reading the frames of `clusters` together takes on this storage.
    public func requests(for clusters: [Int]) -> Int {
        storage.requests(for: clusters.map { entries[$0].offset..<(entries[$0].offset + entries[$0].size) })
    }
}
