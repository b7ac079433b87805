import ANNCommands
import ArgumentParser
import Testing

/// ann-eval compare, parsed from the root as the tool does.
@Suite struct EvalCompareParsingTests {
    @Test(arguments: [
        ["compare", "a.tsv"],
        ["compare", "a.tsv", "b.tsv", "c.tsv"],
        ["compare", "--target", "0.95", "--levels", "0.8, 0.9,1", "--baseline", "a.tsv", "--baseline", "b.tsv", "-o", "t.md", "a.tsv", "c.tsv"],
        ["compare", "--format", "tsv", "--output", "t.tsv", "-q", "a.tsv"],
        ["compare", "--format", "markdown", "-"],
        ["compare", "--baseline", "-", "a.tsv"],
    ])
    func accepts(_ arguments: [String]) {
        do {
            let command = try EvalCommand.parseAsRoot(arguments)
            #expect(String(describing: type(of: command)) == "EvalCompareCommand", "\(arguments)")
        } catch {
            Issue.record("\(arguments) was refused: \(EvalCommand.message(for: error))")
        }
    }

    @Test(arguments: [
        (["compare"], ["name at least one curve file"]),
        (["compare", "--target", "0", "a.tsv"], ["--target must be in (0, 1]"]),
        (["compare", "--target", "1.01", "a.tsv"], ["--target must be in (0, 1]"]),
        (["compare", "--levels", "0.8,0", "a.tsv"], ["--levels takes a comma-separated list of numbers in (0, 1]"]),
        (["compare", "--levels", "0.8,,0.9", "a.tsv"], ["--levels takes a comma-separated list"]),
        (["compare", "--levels", "x", "a.tsv"], ["--levels takes a comma-separated list"]),
        (["compare", "--format", "html", "a.tsv"], ["--format"]),
        (["compare", "--baseline", "-", "-"], ["cannot both be read from stdin"]),
        (["compare", "-", "-"], ["cannot both be read from stdin"]),
        (["compare", "-q", "-v", "a.tsv"], ["--quiet and --verbose"]),
        (["compare", "--index", "i.anni", "a.tsv"], ["--index"]),
    ])
    func rejects(_ arguments: [String], _ words: [String]) {
        expectRootRejected(EvalCommand.self, arguments, mentioning: words)
    }

    @Test func helpNamesItsFlags() {
        let sub = EvalCommand.configuration.subcommands.first { $0.configuration.commandName == "compare" }
        let help = sub?.helpMessage() ?? ""
        for flag in ["--target", "--levels", "--baseline", "--format", "--output"] {
            #expect(help.contains(flag), "\(flag)")
        }
    }
}
