import Foundation
import Testing

/// --help and --version, and the man page of each tool documenting every flag --help shows.
@Suite struct HelpAndManPageTests {
    static let tools = ["ann-kmeans", "ann-groundtruth", "ann-pack", "ann-query", "ann-eval", "ann-train", "ann-dup"]

    @Test(arguments: tools)
    func helpAndVersion(_ tool: String) throws {
        let s = try Scratch()
        let help = try s.run(tool, ["--help"])
        expectSuccess(help)
        let text = String(decoding: help.stdout, as: UTF8.self)
        #expect(text.contains("USAGE: \(tool)"))
        #expect(text.contains("--help"))
        let version = try s.run(tool, ["--version"])
        expectSuccess(version)
        #expect(String(decoding: version.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".").count == 3)
    }

    /// Every `--flag` in the help text (of a subcommand, when given).
    static func longFlags(_ tool: String, subcommand: String? = nil) throws -> Set<String> {
        let s = try Scratch()
        let r = try s.run(tool, (subcommand.map { [$0] } ?? []) + ["--help"])
        #expect(r.status == 0 && !r.stdout.isEmpty, "\(tool) \(subcommand ?? "") --help")
        let text = String(decoding: r.stdout, as: UTF8.self)
        let flags = text.matches(of: try Regex("--[a-z][a-z0-9-]*")).map { String(text[$0.range]) }
        return Set(flags.map { $0.hasSuffix("-") ? String($0.dropLast()) : $0 })
    }

    /// Whether the roff source mentions `flag` as a whole word, written `\-\-flag` or `--flag`.
    static func mentions(_ manSource: String, _ flag: String) -> Bool {
        let text = manSource.replacingOccurrences(of: "\\-", with: "-").replacingOccurrences(of: "\\(hy", with: "-")
        var from = text.startIndex
        while let r = text.range(of: flag, range: from..<text.endIndex) {
            let after = r.upperBound < text.endIndex ? text[r.upperBound] : " "
            let before = r.lowerBound > text.startIndex ? text[text.index(before: r.lowerBound)] : " "
            if !(after.isLetter || after.isNumber || after == "-") && before != "-" { return true }
            from = r.upperBound
        }
        return false
    }

    static func manPage(_ tool: String) -> String { "\(Package.root)/man/\(tool).1" }

    func check(_ tool: String, subcommand: String? = nil, atLeast: Int = 8) throws {
        let flags = try Self.longFlags(tool, subcommand: subcommand)
        #expect(flags.count >= atLeast, "\(flags)")
        let source = try String(contentsOfFile: Self.manPage(tool), encoding: .utf8)
        let missing = flags.filter { !Self.mentions(source, $0) }.sorted()
        #expect(missing.isEmpty, "\(Self.manPage(tool)) does not mention \(missing)\(subcommand.map { " of \($0) --help" } ?? "")")
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: manPage("ann-kmeans")), "man/ann-kmeans.1 is not written yet"))
    func kmeansManPageDocumentsEveryFlag() throws { try check("ann-kmeans") }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: manPage("ann-groundtruth")), "man/ann-groundtruth.1 is not written yet"))
    func groundTruthManPageDocumentsEveryFlag() throws { try check("ann-groundtruth") }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: manPage("ann-pack")), "man/ann-pack.1 is not written yet"))
    func packManPageDocumentsEveryFlag() throws { try check("ann-pack") }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: manPage("ann-query")), "man/ann-query.1 is not written yet"))
    func queryManPageDocumentsEveryFlag() throws { try check("ann-query") }

    /// ann-eval's own --help, and each subcommand's, against the one page.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: manPage("ann-eval")), "man/ann-eval.1 is not written yet"),
          arguments: [nil, "score", "sweep", "plot", "compare"] as [String?])
    func evalManPageDocumentsEveryFlag(_ subcommand: String?) throws {
        try check("ann-eval", subcommand: subcommand, atLeast: subcommand == nil ? 2 : 7)
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: manPage("ann-train")), "man/ann-train.1 is not written yet"))
    func trainManPageDocumentsEveryFlag() throws { try check("ann-train") }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: manPage("ann-dup")), "man/ann-dup.1 is not written yet"))
    func dupManPageDocumentsEveryFlag() throws { try check("ann-dup") }

    /// Every subcommand of ann-eval answers --help and is listed by the tool's own.
    @Test func evalSubcommandsHaveHelp() throws {
        let s = try Scratch()
        let top = String(decoding: try s.run("ann-eval", ["--help"]).stdout, as: UTF8.self)
        for sub in ["score", "sweep", "plot", "compare"] {
            #expect(top.contains(sub))
            let r = try s.run("ann-eval", [sub, "--help"])
            expectSuccess(r)
            #expect(String(decoding: r.stdout, as: UTF8.self).contains("USAGE: ann-eval \(sub)"), "\(sub)")
        }
    }

    @Test func flagMatchingIsByWholeWord() {
        #expect(Self.mentions(".B \\-\\-base\\-from", "--base-from"))
        #expect(!Self.mentions(".B \\-\\-base\\-from", "--base"))
        #expect(Self.mentions("\\fB\\-\\-base\\fR x", "--base"))
        #expect(!Self.mentions("\\-\\-\\-iters", "--iters"))
    }
}
