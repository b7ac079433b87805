import ANNKit
import Testing

@Suite struct AssignmentTests {
    /// Vector 1 was copied into a second cluster (home cluster first); K is larger than any
    /// cluster used, which only the native form can record.
    static let sample = Assignment(clusterCount: 9, vectors: [0, 1, 1, 2, 3, 4], clusters: [4, 2, 7, 0, 2, 4])
    static let identity = AssignmentIdentity(clustering: 0x1234_5678_9ABC_DEF0, base: 0x0FED_CBA9_8765_4321, baseCount: 5)

    func write(_ a: Assignment, to path: String, format: FileFormat) throws {
        let out = try OutputFile(path: path)
        try a.write(to: out, format: format, identity: Self.identity)
        try out.commit()
    }

    @Test func nativeRoundTrip() throws {
        try withTemporaryDirectory { dir in
            try write(Self.sample, to: "\(dir)/a.anna", format: .native)
            let back = try Assignment.load("\(dir)/a.anna")
            #expect(back.clusterCount == 9)
            #expect(back.vectors == Self.sample.vectors)
            #expect(back.clusters == Self.sample.clusters)
            #expect(back.identity == Self.identity)
            let bytes = try readBytes("\(dir)/a.anna")
            #expect(Array(bytes.prefix(32)) == Encode.header(magic: "ANNA", type: 0, dim: 2, aux: 9, count: 6))
            #expect(bytes.count == 32 + 6 * 8 + 32)
            let records = Array(bytes[32..<(32 + 48)])
            #expect(Array(bytes.suffix(32)) == Encode.assignmentFooter(records: records, clustering: Self.identity.clustering,
                                                                      base: Self.identity.base, baseCount: 5))
        }
    }

    /// Every byte after the header decides where a vector goes or what the assignment was made
    /// for: each one changed is refused, through the records CRC or the footer's.
    @Test func everyRecordAndFooterByteIsCovered() throws {
        try withTemporaryDirectory { dir in
            try write(Self.sample, to: "\(dir)/a.anna", format: .native)
            let bytes = try readBytes("\(dir)/a.anna")
            for i in 32..<bytes.count {
                var bad = bytes
                bad[i] ^= 0x10
                try writeBytes(bad, to: "\(dir)/b.anna")
                #expect(annError { _ = try Assignment.load("\(dir)/b.anna") }?.exitCode == 65, "byte \(i)")
            }
            // Truncated at every length after the header, and with a byte too many.
            for n in 32..<bytes.count {
                try writeBytes(Array(bytes.prefix(n)), to: "\(dir)/t.anna")
                #expect(annError { _ = try Assignment.load("\(dir)/t.anna") }?.exitCode == 65, "length \(n)")
            }
            try writeBytes(bytes + [0], to: "\(dir)/l.anna")
            #expect(annError { _ = try Assignment.load("\(dir)/l.anna") }?.exitCode == 65)
        }
    }

    /// Written to a pipe the count is unknown: the reader takes the last 32 bytes as the footer.
    @Test func unknownCountReadsTheFooterAtTheEnd() throws {
        try withTemporaryDirectory { dir in
            let records = (0..<5).flatMap { Encode.le(UInt32($0)) + Encode.le(UInt32($0 % 3)) }
            let footer = Encode.assignmentFooter(records: records, baseCount: 5)
            try writeBytes(Encode.header(magic: "ANNA", type: 0, dim: 2, aux: 3, count: UInt64.max) + records + footer, to: "\(dir)/p.anna")
            let back = try Assignment.load("\(dir)/p.anna")
            #expect(back.pairCount == 5)
            #expect(back.identity == AssignmentIdentity(clustering: 1, base: 2, baseCount: 5))
            // Records that are not whole before the footer.
            try writeBytes(Encode.header(magic: "ANNA", type: 0, dim: 2, aux: 3, count: UInt64.max) + records + [0, 0] + footer, to: "\(dir)/q.anna")
            #expect(annError { _ = try Assignment.load("\(dir)/q.anna") }?.exitCode == 65)
            // A vector beyond the base the footer names.
            let short = Encode.assignmentFooter(records: records, baseCount: 4)
            try writeBytes(Encode.header(magic: "ANNA", type: 0, dim: 2, aux: 3, count: 5) + records + short, to: "\(dir)/r.anna")
            #expect(annError { _ = try Assignment.load("\(dir)/r.anna") }?.exitCode == 65)
        }
    }

    /// The checks ann-pack applies: another clustering, another base size or content.
    @Test func identityChecksRefuseOtherClusteringsAndBases() throws {
        let id = Self.identity
        #expect(throws: Never.self) { try id.check(clustering: id.clustering, source: "a", centroidsName: "c") }
        #expect(annError { try id.check(clustering: id.clustering ^ 1, source: "a", centroidsName: "c") }?.exitCode == 65)
        #expect(throws: Never.self) { try id.check(baseCount: 5, fingerprint: id.base, source: "a", baseName: "b") }
        #expect(annError { try id.check(baseCount: 6, fingerprint: id.base, source: "a", baseName: "b") }?.exitCode == 65)
        #expect(annError { try id.check(baseCount: 5, fingerprint: id.base ^ 1, source: "a", baseName: "b") }?.exitCode == 65)
    }

    /// Foreign forms do not record K: it reads back as one more than the largest cluster.
    @Test(arguments: [FileFormat.ivecs, .ibin])
    func foreignRoundTrip(_ format: FileFormat) throws {
        try withTemporaryDirectory { dir in
            let path = "\(dir)/a.\(format.rawValue)"
            try write(Self.sample, to: path, format: format)
            let back = try Assignment.load(path)
            #expect(back.clusterCount == 8)
            #expect(back.vectors == Self.sample.vectors)
            #expect(back.clusters == Self.sample.clusters)
        }
    }

    @Test func foreignLayouts() throws {
        try withTemporaryDirectory { dir in
            try write(Self.sample, to: "\(dir)/a.ivecs", format: .ivecs)
            try write(Self.sample, to: "\(dir)/a.ibin", format: .ibin)
            let i32 = { (v: [Int32]) in v.flatMap { Encode.le($0) } }
            // .ivecs: one record per vector, home cluster first; records differ in length.
            #expect(try readBytes("\(dir)/a.ivecs") == i32([1, 4, 2, 2, 7, 1, 0, 1, 2, 1, 4]))
            // .ibin: the (vector, cluster) pairs.
            #expect(try readBytes("\(dir)/a.ibin") == i32([6, 2, 0, 4, 1, 2, 1, 7, 2, 0, 3, 2, 4, 4]))
        }
    }

    /// A vector in no cluster (ann-formats(5): it appears in no record) keeps the ids of the
    /// vectors after it: in .ivecs, where a record's position is its vector id, it needs an
    /// empty record.
    @Test(arguments: [FileFormat.native, .ivecs, .ibin])
    func vectorsInNoClusterKeepLaterIDs(_ format: FileFormat) throws {
        let gap = Assignment(clusterCount: 3, vectors: [0, 2, 2, 3], clusters: [1, 0, 2, 1])
        try withTemporaryDirectory { dir in
            let path = "\(dir)/a.\(format == .native ? "anna" : format.rawValue)"
            try write(gap, to: path, format: format)
            let back = try Assignment.load(path)
            #expect(back.vectors == gap.vectors)
            #expect(back.clusters == gap.clusters)
        }
    }

    @Test func streamingWriterFillsInTheCount() throws {
        try withTemporaryDirectory { dir in
            for format in [FileFormat.native, .ibin] {
                let path = "\(dir)/s.\(format == .native ? "anna" : "ibin")"
                let out = try OutputFile(path: path)
                let w = try AssignmentWriter(output: out, format: format, clusterCount: 5, pairCount: nil)
                for v in 0..<100 { try w.append(vector: v, cluster: v % 5) }
                try w.finish(identity: AssignmentIdentity(clustering: 7, base: 8, baseCount: 100))
                try out.commit()
                let back = try Assignment.load(path)
                #expect(back.pairCount == 100)
                #expect(back.clusters == (0..<100).map { UInt32($0 % 5) })
            }
        }
    }

    @Test func refusesBadAssignments() throws {
        try withTemporaryDirectory { dir in
            // A cluster not below K.
            let record = Encode.le(UInt32(0)) + Encode.le(UInt32(2))
            try writeBytes(Encode.header(magic: "ANNA", type: 0, dim: 2, aux: 2, count: 1) + record
                           + Encode.assignmentFooter(records: record, baseCount: 1), to: "\(dir)/k.anna")
            #expect(annError { _ = try Assignment.load("\(dir)/k.anna") }?.exitCode == 65)
            // Vectors out of order.
            let pairs: [Int32] = [2, 2, 5, 0, 3, 0]
            try writeBytes(pairs.flatMap { Encode.le($0) }, to: "\(dir)/o.ibin")
            #expect(annError { _ = try Assignment.load("\(dir)/o.ibin") }?.exitCode == 65)
            // Vectors are not an assignment.
            try writeNativeVectors([1, 2], dim: 2, to: "\(dir)/v.annv")
            #expect(annError { _ = try Assignment.load("\(dir)/v.annv") }?.exitCode == 65)
            // .ibin of triples.
            let triples: [Int32] = [1, 3, 0, 1, 2]
            try writeBytes(triples.flatMap { Encode.le($0) }, to: "\(dir)/t.ibin")
            #expect(annError { _ = try Assignment.load("\(dir)/t.ibin") }?.exitCode == 65)
        }
    }
}
