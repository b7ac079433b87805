import Foundation
import Testing

/// `make -C examples paper PAPER=siftsmall`: the paper's comparison end to end on the bundled
/// sample (k-means, ground truth, SPANN-style replication, router training with duplication
/// rounds, packing, sweeps, the results table and plot), checked for what the SIFT-DEB run shows.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/make") && FileManager.default.isExecutableFile(atPath: "/usr/bin/time"),
                "needs make and GNU time"))
struct PaperCLITests {
    /// One row of results.tsv: vectors fetched at recall@1 0.80/0.90/0.95 and the index size.
    struct Row {
        var v80: Double, v90: Double, v95: Double, bytes90: Double, indexBytes: Double, build: Double
    }

    static func rows(_ path: String) throws -> [String: Row] {
        let text = String(decoding: try readBytes(path), as: UTF8.self)
        var rows = [String: Row]()
        for line in text.split(separator: "\n").dropFirst() {
            let f = line.split(separator: "\t").map(String.init)
            let v = f.dropFirst().compactMap(Double.init)
            guard f.count == 7, v.count == 6 else {
                Issue.record("\(path): malformed line \(line)")
                continue
            }
            rows[f[0]] = Row(v80: v[0], v90: v[1], v95: v[2], bytes90: v[3], indexBytes: v[4], build: v[5])
        }
        return rows
    }

    @Test func paperComparisonOnSiftsmall() throws {
        let s = try Scratch()
        let dir = s.output("paper")
        let r = try s.run(executable: "/usr/bin/make", ["-s", "-C", "\(Package.root)/examples", "paper", "PAPER=siftsmall",
                                                        "BIN=\(Tools.directory)", "PAPER_OUT=\(dir)"])
        try #require(r.exited && r.status == 0, "make paper exited \(r.status): \(r.stderr.suffix(2000))")

        let rows = try Self.rows("\(dir)/results.tsv")
        #expect(Set(rows.keys) == ["centroid", "spann", "spann-pruned", "r0", "r1", "r2", "k0", "k1", "k2"])
        let c = try #require(rows["centroid"]), sp = try #require(rows["spann"])
        for (name, row) in rows {
            #expect(row.v80 > 0 && row.v80 <= row.v90 && row.v90 <= row.v95, "\(name): \(row)")
            #expect(row.indexBytes > 0 && row.build > 0, "\(name): \(row)")
        }

        // What SIFT-DEB shows (docs/results.md), with room for 100 test queries: replication
        // fetches no more than centroid routing for the same recall, though it stores more.
        #expect(sp.v90 <= c.v90 * 1.10, "SPANN-style \(sp.v90) against centroid routing \(c.v90)")
        #expect(sp.indexBytes > c.indexBytes)
        // Duplication only adds copies.
        for series in ["r", "k"] {
            let r0 = try #require(rows["\(series)0"]), r2 = try #require(rows["\(series)2"])
            #expect(r2.indexBytes > r0.indexBytes, "\(series)")
            #expect(r0.indexBytes == c.indexBytes, "\(series)")
        }

        // The table agrees with what the tools printed, and says first whether the router won.
        let summary = String(decoding: try readBytes("\(dir)/paper.centroid.txt"), as: UTF8.self)
        let printed = try #require(summary.split(separator: "\n").last.flatMap { line in
            line.split(separator: ":").last?.split(separator: " ").first.flatMap { Double($0) }
        }, "\(summary)")
        #expect(abs(printed - c.v90) < 0.15, "ann-eval sweep printed \(printed), the table has \(c.v90)")
        let md = String(decoding: try readBytes("\(dir)/results.md"), as: UTF8.self)
        let first = String(md.split(separator: "\n").first ?? "")
        let best = ["r0", "r1", "r2", "k0", "k1", "k2"].compactMap { rows[$0]?.v90 }.min() ?? .infinity
        if best >= c.v90 {
            #expect(first.contains("does not beat centroid routing"), "\(first)")
        } else {
            #expect(!first.contains("does not beat centroid routing"), "\(first)")
        }
        for label in ["centroid routing", "SPANN-style replication", "SPANN-style replication, query pruning", "MLP router (residual), by budget, no duplication",
                      "MLP router (residual), by budget, after 2 duplication rounds", "kernel router, by threshold, no duplication",
                      "kernel router, by threshold, after 2 duplication rounds"] {
            #expect(md.contains("| \(label)"), "results.md has no row for \(label)")
        }
        #expect(md.contains("ann-kmeans") && md.contains("ann-train") && md.contains("ann-dup"), "results.md lists the commands")
        let svg = String(decoding: try readBytes("\(dir)/results.svg"), as: UTF8.self)
        #expect(svg.contains("<svg"))
    }
}
