import Foundation
import Testing

/// `make -C examples paper PAPER=siftsmall`: the paper's comparison end to end on the bundled
/// sample (k-means, ground truth, SPANN-style replication, router training with duplication
/// rounds, packing, sweeps, the comparison of ann-eval compare, the results page and plot), checked
/// for what the SIFT-DEB run shows.
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/make") && FileManager.default.isExecutableFile(atPath: "/usr/bin/time"),
                "needs make and GNU time"))
struct PaperCLITests {
    /// comparison.tsv (ann-eval compare --format tsv): for each curve (paper.NAME.tsv), the
    /// vectors fetched per query at each recall@1 level.
    static func fetches(_ path: String) throws -> [String: [String: Double]] {
        let text = String(decoding: try readBytes(path), as: UTF8.self)
        var rows = [String: [String: Double]]()
        for line in text.split(separator: "\n") where !line.hasPrefix("#") && !line.hasPrefix("file\t") {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 6, let v = Double(f[4]) else {
                Issue.record("\(path): malformed line \(line)")
                continue
            }
            let name = String(f[0].split(separator: "/").last!.dropFirst("paper.".count).dropLast(".tsv".count))
            rows[name, default: [:]][f[2]] = v
        }
        return rows
    }

    @Test func paperComparisonOnSiftsmall() throws {
        let s = try Scratch()
        let dir = s.output("paper")
        let r = try s.run(executable: "/usr/bin/make", ["-s", "-C", "\(Package.root)/examples", "paper", "PAPER=siftsmall",
                                                        "BIN=\(Tools.directory)", "PAPER_OUT=\(dir)"])
        try #require(r.exited && r.status == 0, "make paper exited \(r.status): \(r.stderr.suffix(2000))")

        let rows = try Self.fetches("\(dir)/comparison.tsv")
        #expect(Set(rows.keys) == ["centroid", "spann", "spann-pruned", "r0", "r1", "r2", "k0", "k1", "k2"])
        for (name, row) in rows {
            let v80 = try #require(row["0.80"]), v90 = try #require(row["0.90"]), v95 = try #require(row["0.95"])
            #expect(v80 > 0 && v80 <= v90 && v90 <= v95, "\(name): \(row)")
        }
        let c = try #require(rows["centroid"]?["0.90"]), sp = try #require(rows["spann"]?["0.90"])

        // What SIFT-DEB shows (docs/results.md), with room for 100 test queries: replication
        // fetches no more than centroid routing for the same recall, though it stores more.
        func size(_ name: String) throws -> Int { try #require(try FileManager.default.attributesOfItem(atPath: "\(dir)/\(name)")[.size] as? Int) }
        #expect(sp <= c * 1.10, "SPANN-style \(sp) against centroid routing \(c)")
        #expect(try size("spann.anni") > size("index.anni"))
        // Duplication only adds copies.
        for series in ["r", "k"] {
            #expect(try size("index.\(series)2.anni") > size("index.\(series)0.anni"), "\(series)")
            #expect(try size("index.\(series)0.anni") == size("index.anni"), "\(series)")
        }
        // Every build step was timed.
        let times = String(decoding: try readBytes("\(dir)/times.tsv"), as: UTF8.self)
        for step in ["centroids.fvecs", "index.anni", "spann.anni", "model.r2.annm", "model.k2.annm"] {
            #expect(times.contains("\n\(step)\t") || times.hasPrefix("\(step)\t"), "times.tsv has no \(step)")
        }

        // The table agrees with what the tools printed, and names the curve that fetches least.
        let summary = String(decoding: try readBytes("\(dir)/paper.centroid.txt"), as: UTF8.self)
        let printed = try #require(summary.split(separator: "\n").last.flatMap { line in
            line.split(separator: ":").last?.split(separator: " ").first.flatMap { Double($0) }
        }, "\(summary)")
        #expect(abs(printed - c) < 0.15, "ann-eval sweep printed \(printed), the table has \(c)")
        let md = String(decoding: try readBytes("\(dir)/results.md"), as: UTF8.self)
        let best = try #require(rows.min { ($0.value["0.90"] ?? .infinity) < ($1.value["0.90"] ?? .infinity) })
        let label = String(decoding: try readBytes("\(dir)/paper.\(best.key).tsv"), as: UTF8.self)
            .split(separator: "\n").first.map { String($0.dropFirst("# label: ".count)) } ?? ""
        #expect(md.contains("Fewest vectors per query at recall@1 0.90: \(label), "), "the fewest should be \(label)")
        for label in ["centroid routing", "SPANN-style replication", "SPANN-style replication, pruned 0.2", "MLP router, duplication rounds: 0",
                      "MLP router, duplication rounds: 2", "kernel router, threshold, duplication rounds: 0",
                      "kernel router, threshold, duplication rounds: 2"] {
            #expect(md.contains("| \(label) |"), "results.md has no row for \(label)")
        }
        #expect(md.contains("ann-kmeans") && md.contains("ann-train") && md.contains("ann-dup"), "results.md lists the commands")
        #expect(!md.contains("Entering directory") && !md.contains("Leaving directory"), "make's chatter in results.md")
        let svg = String(decoding: try readBytes("\(dir)/results.svg"), as: UTF8.self)
        #expect(svg.contains("<svg"))
    }
}
