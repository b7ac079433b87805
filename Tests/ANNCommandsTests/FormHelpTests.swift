import ANNCommands
import ArgumentParser
import Testing

/// --from, --to and -o list, in each tool's help, only the forms that tool takes: the list its
/// validation uses. Forms outside it parse, and are refused by name.
@Suite struct FormHelpTests {
    static func line(_ help: String, _ flag: String) -> String {
        help.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(flag) }.map(String.init) ?? ""
    }

    @Test func kmeansListsTheCentroidForms() {
        let help = KMeansCommand.helpMessage(columns: 10_000)
        #expect(Self.line(help, "--to").hasSuffix("(values: native, fvecs, fbin)"), "\(Self.line(help, "--to"))")
        #expect(Self.line(help, "-o, --output").contains("picks the form: .fvecs, .fbin; native otherwise"))
        #expect(Self.line(help, "--from").hasSuffix("(values: native, fvecs, bvecs, fbin, u8bin)"), "\(Self.line(help, "--from"))")
    }

    @Test func neighbourListToolsListTheirForms() {
        for help in [QueryCommand.helpMessage(columns: 10_000), GroundTruthCommand.helpMessage(columns: 10_000)] {
            #expect(Self.line(help, "--to").hasSuffix("(values: native, ivecs, ibin, fvecs, fbin)"), "\(Self.line(help, "--to"))")
            #expect(Self.line(help, "-o, --output").contains("picks the form: .ivecs, .ibin, .fvecs, .fbin; native otherwise"))
            #expect(!Self.line(help, "--from").contains("ivecs"))
        }
        #expect(!Self.line(GroundTruthCommand.helpMessage(columns: 10_000), "--base-from").contains("ibin"))
    }

    @Test func everyToolReadingVectorsListsTheVectorForms() {
        for help in [PackCommand.helpMessage(columns: 10_000), TrainCommand.helpMessage(columns: 10_000), DupCommand.helpMessage(columns: 10_000)] {
            #expect(Self.line(help, "--from").hasSuffix("(values: native, fvecs, bvecs, fbin, u8bin)"), "\(Self.line(help, "--from"))")
        }
    }

    @Test func integerFormsAreRefusedForVectors() {
        expectRejected(KMeansCommand.self, ["-k", "8", "--from", "ivecs"], mentioning: ["--from ivecs cannot hold vectors", "u8bin"])
        expectRejected(PackCommand.self, ["--centroids", "c.fvecs", "--assignments", "a.ivecs", "--from", "ibin"], mentioning: ["--from ibin"])
        expectRejected(GroundTruthCommand.self, ["--base", "b", "--base-from", "ivecs", "-k", "1"], mentioning: ["--base-from ivecs cannot hold vectors"])
        expectRejected(KMeansCommand.self, ["-k", "8", "--to", "u8bin"], mentioning: ["--to u8bin cannot hold centroids"])
    }
}
