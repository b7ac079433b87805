import Foundation
import Testing

/// The defaults a man page documents are the ones the tool applies: every number in a
/// "(default …)" of an option's --help text appears after "default" in the same option's entry
/// of the man page. The help text is derived from the code's defaults, so a man page that kept
/// an old value fails here.
@Suite struct ManPageDefaultsTests {
    static let pages: [(tool: String, subcommand: String?)] = [
        ("ann-kmeans", nil), ("ann-groundtruth", nil), ("ann-pack", nil), ("ann-query", nil),
        ("ann-eval", "score"), ("ann-eval", "sweep"), ("ann-eval", "plot"), ("ann-train", nil), ("ann-dup", nil),
    ]

    /// Each option of a --help text with the text of its description, joined into one line.
    static func helpOptions(_ help: String) -> [(flag: String, text: String)] {
        var out: [(String, String)] = []
        for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
            let t = line.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("  -"), let m = t.firstMatch(of: #/^(?:-[a-zA-Z], )?(--[a-z][a-z0-9-]*)/#) {
                out.append((String(m.1), t))
            } else if !out.isEmpty && line.hasPrefix("   ") {
                out[out.count - 1].1 += " " + t
            } else if !line.hasPrefix("  ") {
                if !out.isEmpty && !t.isEmpty { out.append(("", "")) }
            }
        }
        return out.filter { !$0.0.isEmpty }
    }

    /// Roff source as plain words: escapes and font changes dropped, macro names removed.
    static func plain(_ roff: String) -> String {
        var s = roff.replacingOccurrences(of: "\\-", with: "-").replacingOccurrences(of: "\\(hy", with: "-")
            .replacingOccurrences(of: "\\(dq", with: "\"")
        s = s.replacing(#/\\f[BIRP]/#, with: "").replacing(#/\\[ &]/#, with: " ")
        return s.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard line.hasPrefix(".") else { return String(line) }
            return line.split(separator: " ", maxSplits: 1).dropFirst().first.map { $0.replacingOccurrences(of: "\"", with: "") } ?? ""
        }.joined(separator: " ")
    }

    /// The man page's entry for `flag`: the paragraph after the `.TP` tag line that names it.
    static func manEntry(_ source: String, flag: String) -> String? {
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for i in lines.indices.dropFirst() where lines[i - 1].hasPrefix(".TP") {
            let tag = plain(lines[i]).trimmingCharacters(in: .whitespaces)
            let names = tag.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "|" || $0 == "=" }).map(String.init)
            guard names.contains(flag) else { continue }
            var body: [String] = []
            var j = i + 1
            while j < lines.count, !lines[j].hasPrefix(".TP"), !lines[j].hasPrefix(".SH"), !lines[j].hasPrefix(".SS") {
                body.append(lines[j])
                j += 1
            }
            return plain(body.joined(separator: "\n")).split(whereSeparator: \.isWhitespace).joined(separator: " ")
        }
        return nil
    }

    /// The numbers (with their units, as "16B/vector") in each "(default …)" of a help text.
    static func documentedNumbers(_ helpText: String) -> [String] {
        helpText.matches(of: #/\(default:? ([^)]*)\)/#).flatMap { m in
            m.1.split(whereSeparator: { $0 == " " || $0 == "," || $0 == ";" })
                .map { String($0).trimmingCharacters(in: CharacterSet(charactersIn: ".:")) }
                .filter { $0.first?.isNumber == true }
        }
    }

    /// Whether the entry, after its first "default", names `value`: numbers compare by value
    /// ("0" documents a help's "0.0"), other words as written.
    static func says(_ entry: String, default value: String) -> Bool {
        guard let d = entry.range(of: "default") else { return false }
        let words = entry[d.upperBound...].split(whereSeparator: { " ,;:()".contains($0) })
            .map { String($0).trimmingCharacters(in: CharacterSet(charactersIn: ".")) }
        if let x = Double(value) { return words.contains { Double($0) == x } }
        return words.contains(value)
    }

    @Test func manPageDefaultsMatchHelp() throws {
        let s = try Scratch()
        var checked = 0
        for (tool, subcommand) in Self.pages {
            let r = try s.run(tool, (subcommand.map { [$0] } ?? []) + ["--help"])
            expectSuccess(r)
            let source = try String(contentsOfFile: "\(Package.root)/man/\(tool).1", encoding: .utf8)
            for (flag, text) in Self.helpOptions(String(decoding: r.stdout, as: UTF8.self)) {
                let numbers = Self.documentedNumbers(text)
                guard !numbers.isEmpty else { continue }
                let entry = try #require(Self.manEntry(source, flag: flag), "man/\(tool).1 has no entry for \(flag)")
                for v in numbers {
                    #expect(Self.says(entry, default: v), "man/\(tool).1, \(flag): --help says default \(v), the page says: \(entry.prefix(200))")
                    checked += 1
                }
            }
        }
        // Most options with a numeric default: a parser that stopped finding them fails here.
        #expect(checked >= 20, "only \(checked) documented defaults found in the tools' --help")
    }

    @Test func parsingOfHelpAndRoff() throws {
        let help = """
              --iters <iters>     Lloyd iterations.
                                  (default: 20)
              -k <k>              Number of clusters.
            """
        let options = Self.helpOptions(help)
        #expect(options.map(\.flag) == ["--iters"])
        #expect(Self.documentedNumbers(options[0].text) == ["20"])
        #expect(Self.documentedNumbers("(default: pq 30, kernel 3, MLP 10)") == ["30", "3", "10"])
        let roff = ".TP\n.BI \\-\\-point\\-lr \" rate\"\nThe rate (default\n.BR 0.1 ).\n.TP\n.B \\-\\-other\nx\n"
        let entry = try #require(Self.manEntry(roff, flag: "--point-lr"))
        #expect(Self.says(entry, default: "0.1"))
        #expect(Self.says(entry, default: "0.10"))
        #expect(!Self.says(entry, default: "1"))
        #expect(Self.manEntry(roff, flag: "--point") == nil)
    }
}
