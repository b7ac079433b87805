import ANNKit
import Foundation

/// Draws recall curves with gnuplot (a Debian package, run as a child process). The curves
/// go inline in the script (datablocks) and gnuplot writes the image to its stdout, which is an
/// `OutputFile`: the image gets the temporary name, cleanup and rename of every other output.
enum Plotter {
    static func plot(_ curves: [RecallCurve], title: String, target: Double, to path: String) throws {
        guard let gnuplot = ["/usr/bin/gnuplot", "/usr/local/bin/gnuplot"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw ANNError.missingInput(source: "gnuplot", message: "not installed (apt-get install gnuplot-nox)")
        }
        let out = try openOutput(path, text: true)
        let png = path.lowercased().hasSuffix(".png")
        var script = png ? "set terminal pngcairo size 1000,700 noenhanced font 'sans,11'\n" : "set terminal svg size 1000,700 dynamic noenhanced font 'sans,11'\n"
        script += "set output\nset title '\(escape(title))'\nset xlabel 'vectors fetched per query (mean)'\nset ylabel 'recall@1'\n"
        script += "set logscale x\nset grid\nset key bottom right\nset yrange [*:1]\n"
        script += "set arrow from graph 0, first \(target) to graph 1, first \(target) nohead dashtype 2 lc rgb '#888888'\n"
        var parts = [String]()
        for (i, c) in curves.enumerated() {
            script += "$curve\(i) << EOD\n" + c.points.map { "\($0.vectors) \($0.recall1)\n" }.joined() + "EOD\n"
            parts.append("$curve\(i) using 1:2 with linespoints lw 2 pt 7 ps 0.8 title '\(escape(c.label))'")
        }
        script += "plot " + parts.joined(separator: ", ") + "\n"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: gnuplot)
        let pipe = Pipe()
        p.standardInput = pipe
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle(fileDescriptor: out.sink.fd, closeOnDealloc: false)
        do {
            try p.run()
        } catch {
            throw ANNError.cantCreate(target: path, message: "cannot run gnuplot: \(error.localizedDescription)")
        }
        pipe.fileHandleForWriting.write(script.data(using: .utf8)!)
        try? pipe.fileHandleForWriting.close()
        let message = String(data: err.fileHandleForReading.readDataToEndOfFile(), encoding: .utf8) ?? ""
        p.waitUntilExit()
        var size = stat()
        guard p.terminationReason == .exit, p.terminationStatus == 0, fstat(out.sink.fd, &size) == 0, size.st_size > 0 else {
            out.discard()
            throw ANNError.cantCreate(target: path, message: "gnuplot failed: \(message.split(separator: "\n").first ?? "")")
        }
        try out.commit()
    }

    private static func escape(_ s: String) -> String { s.replacingOccurrences(of: "'", with: "''") }
}
