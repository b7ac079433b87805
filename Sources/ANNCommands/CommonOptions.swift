import ANNKit
import ArgumentParser

extension Metric: ExpressibleByArgument {}
extension FileFormat: ExpressibleByArgument {}
extension KMeansParameters.Initialization: ExpressibleByArgument {}

/// -q/-v, shared by every tool.
public struct VerbosityOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Print nothing but errors.")
    public var quiet = false

    @Flag(name: .shortAndLong, help: "Report what is done, with timings, on stderr.")
    public var verbose = false

    public init() {}

    public func validate() throws {
        if quiet && verbose { throw ValidationError("--quiet and --verbose exclude each other") }
    }
}

/// The main input (a file, or stdin for none or "-") and its form.
public struct InputOptions: ParsableArguments {
    @Option(name: .customLong("from"), help: ArgumentHelp(
        "Form of the main input when its name does not tell: native, fvecs, bvecs, ivecs, fbin, u8bin, ibin.",
        valueName: "form"))
    public var from: FileFormat?

    public init() {}
}

/// -o and --to: where the main output goes and in which form.
public struct OutputOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: ArgumentHelp(
        "Write the output to FILE (default: stdout). Its extension picks the form: .fvecs, .bvecs, .ivecs, .fbin, .u8bin, .ibin; native otherwise.",
        valueName: "file"))
    public var output: String?

    @Option(name: .customLong("to"), help: ArgumentHelp(
        "Form of the output, overriding the extension (and the form written to stdout).", valueName: "form"))
    public var to: FileFormat?

    public init() {}

    /// The form to write: --to, else the extension of -o, else native.
    public var format: FileFormat { to ?? output.flatMap(FileFormat.fromPath) ?? .native }
}

/// --metric, with the same meaning in every tool.
public struct MetricOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Distance: l2 (squared Euclidean), ip (inner product) or cos (cosine).", valueName: "metric"))
    public var metric: Metric = .l2

    public init() {}
}

/// Where an auxiliary output goes, in the form its extension names.
func formatOf(_ path: String) -> FileFormat { FileFormat.fromPath(path) ?? .native }
