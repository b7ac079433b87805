import ANNKit
import Testing

@Suite struct FileFormatTests {
    @Test(arguments: [
        ("base.fvecs", FileFormat.fvecs), ("base.bvecs", .bvecs), ("gt.ivecs", .ivecs),
        ("base.fbin", .fbin), ("base.u8bin", .u8bin), ("gt.ibin", .ibin),
        ("dir/base.fvecs.zst", .fvecs), ("base.u8bin.zst", .u8bin), ("gt.ivecs.zst", .ivecs),
        ("BASE.FVECS", .fvecs), ("/a.b/c.fbin", .fbin),
    ])
    func foreignFormsComeFromTheExtension(_ path: String, _ expected: FileFormat) {
        #expect(FileFormat.fromPath(path) == expected)
    }

    /// Names that do not end in a foreign extension mean the native stream (nil).
    @Test(arguments: ["centroids.annv", "x.native", "noextension", "dir.fvecs/file", "a.zst",
                      "a.fvecs.gz", "-", ".zst", "a.fvecs.zst.zst", ""])
    func otherNamesAreNotForeign(_ path: String) {
        #expect(FileFormat.fromPath(path) == nil)
    }

    @Test func familiesAndElementTypes() {
        #expect(FileFormat.allCases.filter(\.isTexmex) == [.fvecs, .bvecs, .ivecs])
        #expect(FileFormat.allCases.filter(\.isBin) == [.fbin, .u8bin, .ibin])
        #expect(FileFormat.fvecs.vectorElementType == .float32)
        #expect(FileFormat.u8bin.vectorElementType == .uint8)
        #expect(FileFormat.ivecs.vectorElementType == nil)
        #expect(FileFormat.fvecs.vectorForm(for: .uint8) == .bvecs)
        #expect(FileFormat.u8bin.vectorForm(for: .float32) == .fbin)
        #expect(FileFormat.native.vectorForm(for: .uint8) == .native)
    }
}
