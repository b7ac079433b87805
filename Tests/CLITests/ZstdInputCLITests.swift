import ANNKit
import Foundation
import Testing

/// The tools read the bundled .zst files directly, taking the form from the name before .zst,
/// and recognise a zstd frame on stdin by its magic.
@Suite struct ZstdInputCLITests {
    @Test func groundTruthFromCompressedFiles() throws {
        let s = try Scratch()
        let r = try s.run("ann-groundtruth", ["--base", "\(Package.data)/siftsmall_base.fvecs.zst", "-k", "100",
                                              "-o", s.output("gt.annn"), "\(Package.data)/siftsmall_query.fvecs.zst"])
        expectSuccess(r)
        try GroundTruthCLITests.expectMatchesOfficialGroundTruth(try NeighborList.load(s.output("gt.annn")))
    }

    @Test func kmeansFromCompressedFileAndStdin() throws {
        let s = try Scratch()
        let zst = "\(Package.data)/bigann10k_base.bvecs.zst"
        expectSuccess(try s.run("ann-kmeans", ["-k", "10", "--iters", "3", "-o", s.output("a.annv"), zst]))
        expectSuccess(try s.run("ann-kmeans", ["-k", "10", "--iters", "3", "-o", s.output("b.annv"), "--from", "bvecs"], stdin: zst))
        expectSuccess(try s.run("ann-kmeans", ["-k", "10", "--iters", "3", "-o", s.output("c.annv"), try s.sample("bigann10k_base.bvecs")]))
        let c = try VectorReader(path: s.output("c.annv")).readAll()
        #expect(c.count == 10 * 128)
        #expect(try VectorReader(path: s.output("a.annv")).readAll() == c)
        #expect(try VectorReader(path: s.output("b.annv")).readAll() == c)
    }

    /// Bytes flipped in the middle of a frame: the frame's checksum or structure catches it.
    @Test func corruptFrameIsBadData() throws {
        let s = try Scratch()
        for name in ["siftsmall_query.fvecs.zst", "siftsmall_base.fvecs.zst"] {
            var b = try readBytes("\(Package.data)/\(name)")
            for i in (b.count / 2)..<(b.count / 2 + 64) { b[i] ^= 0xFF }
            try s.write(b, to: name)
            let r = try s.run("ann-kmeans", ["-k", "4", "-o", s.output("c.annv"), s.path(name)])
            try expectFailure(r, tool: "ann-kmeans", status: 65, mentioning: [name], scratch: s)
            let g = try s.run("ann-groundtruth", ["--base", s.path(name), "-k", "4", "-o", s.output("gt.annn"),
                                                  "\(Package.data)/siftsmall_query.fvecs.zst"])
            try expectFailure(g, tool: "ann-groundtruth", status: 65, mentioning: [name], scratch: s)
        }
    }

    @Test func truncatedFrameIsBadData() throws {
        let s = try Scratch()
        let b = try readBytes("\(Package.data)/siftsmall_query.fvecs.zst")
        try s.write(Array(b.prefix(b.count - 200)), to: "q.fvecs.zst")
        let r = try s.run("ann-kmeans", ["-k", "4", "-o", s.output("c.annv"), s.path("q.fvecs.zst")])
        try expectFailure(r, tool: "ann-kmeans", status: 65, mentioning: ["q.fvecs.zst"], scratch: s)
    }
}
