import Foundation
import Testing

/// A filter whose reader goes away early ends quietly with status 0 (ripgrep, zstd).
@Suite struct PipeCLITests {
    /// The tool's status and stderr are saved by the shell inside the pipeline; `head` reads a
    /// few bytes and exits while the tool still has megabytes to write.
    func runIntoClosedPipe(_ s: Scratch, _ tool: String, _ arguments: [String]) throws -> (status: String, stderr: String) {
        let script = "\"$0\" \"$@\" 2>\"\(s.path("tool.err"))\"; echo $? >\"\(s.path("tool.status"))\""
        let r = try s.run(executable: "/bin/sh", ["-c", "(\(script)) | head -c 10 >/dev/null", Tools.path(tool)] + arguments)
        #expect(r.status == 0, "\(r.stderr)")
        let status = String(decoding: try readBytes(s.path("tool.status")), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return (status, String(decoding: try readBytes(s.path("tool.err")), as: UTF8.self))
    }

    @Test func groundTruthIntoClosedPipe() throws {
        let s = try Scratch()
        let base = try s.sample("siftsmall_base.fvecs")
        // Every base vector as a query: 10,000 × 100 neighbours, 8 MB, far beyond a pipe's buffer.
        let (status, stderr) = try runIntoClosedPipe(s, "ann-groundtruth", ["--base", base, "-k", "100", base])
        #expect(status == "0")
        #expect(stderr.isEmpty, "\(stderr)")
    }

    @Test func kmeansIntoClosedPipe() throws {
        let s = try Scratch()
        let input = try s.sample("siftsmall_base.fvecs")
        // 2,000 centroids of 128 floats: 1 MB on stdout.
        let (status, stderr) = try runIntoClosedPipe(s, "ann-kmeans", ["-k", "2000", "--iters", "1", input])
        #expect(status == "0")
        #expect(stderr.isEmpty, "\(stderr)")
        #expect(try s.outputs().isEmpty)
    }
}
