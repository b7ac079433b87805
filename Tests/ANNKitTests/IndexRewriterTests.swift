import ANNKit
import Testing

/// The next index written from the current one equals the index packed from the base with the
/// new membership, byte for byte; untouched clusters keep their frames; a membership that would
/// lose a vector is refused.
@Suite struct IndexRewriterTests {
    /// `fixture` with every 50th vector also copied into the cluster three after its home.
    static func withCopies(_ fixture: IndexFixture) -> IndexFixture {
        var next = fixture
        for v in stride(from: 0, to: fixture.count, by: 50) {
            let c = (fixture.clustersOf[v][0] + 3) % UInt32(fixture.k)
            if !next.clustersOf[v].contains(c) { next.clustersOf[v].append(c) }
        }
        next.clustersOf = next.clustersOf.map { $0.sorted() }
        return next
    }

    @Test(arguments: [ElementType.float32, .uint8])
    func rewriteEqualsPackingFromTheBase(_ type: ElementType) throws {
        let now = try IndexFixture.sift(n: 2000, k: 8, duplicateEvery: 7, emptyClusters: 1, type: type)
        let next = Self.withCopies(now)
        try withTemporaryDirectory { dir in
            try now.pack(to: "\(dir)/now.anni", level: 5)
            try next.pack(to: "\(dir)/packed.anni", level: 5)
            let index = try PackedIndex(path: "\(dir)/now.anni")
            let out = try OutputFile(path: "\(dir)/rewritten.anni")
            let report = try IndexRewriter.write(from: index, current: try Assignment(index: index), next: next.assignment, to: out)
            try out.commit()
            #expect(try readBytes("\(dir)/rewritten.anni") == readBytes("\(dir)/packed.anni"))
            #expect(report.copies == next.clustersOf.reduce(0) { $0 + $1.count })
            // The clusters that gained nothing kept their frames (same offsets' bytes aside).
            let rewritten = try PackedIndex(path: "\(dir)/rewritten.anni")
            let gained = Set(zip(now.members, next.members).enumerated().filter { $1.0 != $1.1 }.map(\.offset))
            #expect(!gained.isEmpty && gained.count < now.k)
            for c in 0..<now.k where !gained.contains(c) {
                #expect(rewritten.entries[c].crc == index.entries[c].crc && rewritten.entries[c].size == index.entries[c].size)
            }
            for c in gained { #expect(try fetchCluster(rewritten, c).ids == next.members[c]) }
        }
    }

    @Test func unchangedMembershipCopiesTheIndex() throws {
        let now = try IndexFixture.sift(n: 1000, k: 6, duplicateEvery: 5)
        try withTemporaryDirectory { dir in
            try now.pack(to: "\(dir)/now.anni")
            let index = try PackedIndex(path: "\(dir)/now.anni")
            let out = try OutputFile(path: "\(dir)/same.anni")
            let current = try Assignment(index: index)
            _ = try IndexRewriter.write(from: index, current: current, next: current, to: out)
            try out.commit()
            #expect(try readBytes("\(dir)/same.anni") == readBytes("\(dir)/now.anni"))
        }
    }

    @Test func aMembershipThatLosesAVectorIsRefused() throws {
        let now = try IndexFixture.sift(n: 500, k: 4)
        try withTemporaryDirectory { dir in
            try now.pack(to: "\(dir)/now.anni")
            let index = try PackedIndex(path: "\(dir)/now.anni")
            var lost = now
            lost.clustersOf[123] = []
            let out = try OutputFile(path: "\(dir)/lost.anni")
            let e = annError { _ = try IndexRewriter.write(from: index, current: try Assignment(index: index), next: lost.assignment, to: out) }
            guard case .badData(_, let message)? = e else { Issue.record("expected bad data, got \(String(describing: e))"); return }
            #expect(message.contains("vector 123"), "\(message)")
        }
    }
}
