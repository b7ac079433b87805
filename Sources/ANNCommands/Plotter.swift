import ANNKit
import Foundation

/// Draws recall curves with gnuplot (a Debian package, run as a child process), into a
/// temporary file renamed into place.
enum Plotter {
    static func plot(_ curves: [RecallCurve], title: String, target: Double, to path: String) throws {
        guard let gnuplot = ["/usr/bin/gnuplot", "/usr/local/bin/gnuplot"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw ANNError.missingInput(source: "gnuplot", message: "not installed (apt-get install gnuplot-nox)")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ann-plot-\(getpid())")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let parent = (path as NSString).deletingLastPathComponent
        guard access(parent.isEmpty ? "." : parent, W_OK) == 0 else {
            throw ANNError.cantCreate(target: path, message: String(cString: strerror(errno)))
        }
        let temp = path + ".tmp.\(getpid())"
        let png = path.lowercased().hasSuffix(".png")
        var script = png ? "set terminal pngcairo size 1000,700 noenhanced font 'sans,11'\n" : "set terminal svg size 1000,700 dynamic noenhanced font 'sans,11'\n"
        script += "set output '\(temp)'\nset title '\(escape(title))'\nset xlabel 'vectors fetched per query (mean)'\nset ylabel 'recall@1'\n"
        script += "set logscale x\nset grid\nset key bottom right\nset yrange [*:1]\n"
        script += "set arrow from graph 0, first \(target) to graph 1, first \(target) nohead dashtype 2 lc rgb '#888888'\n"
        var parts = [String]()
        for (i, c) in curves.enumerated() {
            let data = dir.appendingPathComponent("curve\(i).dat")
            let rows = c.points.map { "\($0.vectors) \($0.recall1)" }.joined(separator: "\n") + "\n"
            try rows.write(to: data, atomically: true, encoding: .utf8)
            parts.append("'\(data.path)' using 1:2 with linespoints lw 2 pt 7 ps 0.8 title '\(escape(c.label))'")
        }
        script += "plot " + parts.joined(separator: ", ") + "\n"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: gnuplot)
        let pipe = Pipe()
        p.standardInput = pipe
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        pipe.fileHandleForWriting.write(script.data(using: .utf8)!)
        try pipe.fileHandleForWriting.close()
        p.waitUntilExit()
        let message = String(data: err.fileHandleForReading.readDataToEndOfFile(), encoding: .utf8) ?? ""
        guard p.terminationStatus == 0, FileManager.default.fileExists(atPath: temp) else {
            unlink(temp)
            throw ANNError.cantCreate(target: path, message: "gnuplot failed: \(message.split(separator: "\n").first ?? "")")
        }
        guard rename(temp, path) == 0 else {
            unlink(temp)
            throw ANNError.cantCreate(target: path, message: String(cString: strerror(errno)))
        }
    }

    private static func escape(_ s: String) -> String { s.replacingOccurrences(of: "'", with: "''") }
}
