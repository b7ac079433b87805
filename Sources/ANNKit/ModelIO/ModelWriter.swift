/// Writes router models (ann-formats(5), ANNM): for each kind its fixed fields and arrays, in
/// the container every kind shares (header, fixed fields, arrays, CRC-32C). Its counterpart
/// reading them is `ModelFile` with the decoders of `ModelReader.swift`.
public enum ModelWriter {
    /// Writes any router that has a model file: every kind `ModelFile.router()` returns.
    public static func write(_ router: any ClusterRouter, to output: OutputFile) throws {
        switch router {
        case let m as RouterModel: try write(m, to: output)
        case let k as KernelRouter: try write(k, to: output)
        case let p as PQRouter: try write(p, to: output)
        default: preconditionFailure("\(type(of: router)) has no model file")
        }
    }

    /// The MLP: normalisation, then the weights and biases of the three layers.
    public static func write(_ model: RouterModel, to output: OutputFile) throws {
        var fixed = [UInt8](repeating: 0, count: ModelLayout.fixedSize)
        fixed.storeLE(model.fingerprint, at: 0)
        fixed.storeLE(UInt32(model.hidden1), at: 8)
        fixed.storeLE(UInt32(model.hidden2), at: 12)
        fixed[16] = 1  // activation: ReLU
        fixed[17] = ModelFile.Architecture.mlp.rawValue
        fixed.storeLE(model.centroidWeight.bitPattern, at: 20)
        try write(to: output, metric: model.metric, dim: model.dim, clusterCount: model.clusterCount, fixed: fixed,
                  footprint: model.footprint, arrays: [model.mean, model.scale, model.w1, model.b1, model.w2, model.b2, model.w3, model.b3])
    }

    /// The kernel router: slots, candidates, precision and w in the fixed fields, then the
    /// points (float16 when `isHalf`, padded to 4 bytes) and their log-weights.
    public static func write(_ router: KernelRouter, to output: OutputFile) throws {
        var fixed = [UInt8](repeating: 0, count: ModelLayout.fixedSize)
        fixed.storeLE(router.fingerprint, at: 0)
        fixed.storeLE(UInt32(router.slots), at: 8)
        fixed.storeLE(UInt32(router.scoredClusters == router.clusterCount ? 0 : router.candidates), at: 12)
        fixed[16] = router.isHalf ? 1 : 0
        fixed[17] = ModelFile.Architecture.kernel.rawValue
        fixed.storeLE(router.weight.bitPattern, at: 20)
        guard router.isHalf else {
            try write(to: output, metric: router.metric, dim: router.dim, clusterCount: router.clusterCount, fixed: fixed,
                      footprint: router.footprint, arrays: [router.points, router.logWeights])
            return
        }
        var half = [UInt8](repeating: 0, count: KernelRouter.halfBytes(router.halfPoints.count))
        for (i, h) in router.halfPoints.enumerated() { half.storeLE(h.bitPattern, at: 2 * i) }
        try write(to: output, metric: router.metric, dim: router.dim, clusterCount: router.clusterCount, fixed: fixed,
                  footprint: router.footprint, prefix: half, arrays: [router.logWeights])
    }

    /// The PQ router: code size, lists, candidates, calibration and rotation, hidden units and T
    /// in the fixed fields; the codebooks, the rotation and the scorer; then the clusters' sizes
    /// and coded counts, the membership digest and the codes, padded to 4 bytes.
    public static func write(_ router: PQRouter, to output: OutputFile) throws {
        var fixed = [UInt8](repeating: 0, count: ModelLayout.fixedSize)
        fixed.storeLE(router.fingerprint, at: 0)
        fixed.storeLE(UInt32(router.quantizer.m), at: 8)
        fixed.storeLE(UInt16(router.lists), at: 12)
        fixed.storeLE(UInt16(router.candidates), at: 14)
        fixed[16] = router.modeByte
        fixed[17] = ModelFile.Architecture.pq.rawValue
        fixed.storeLE(UInt16(router.scorer?.hidden ?? 0), at: 18)
        fixed.storeLE(router.temperature.bitPattern, at: 20)
        let k = router.clusterCount, entries = router.offsets[k], m = router.quantizer.m
        var suffix = [UInt8](repeating: 0, count: 4 * (2 * k + 1) + PQRouter.codeBytes(entries: entries, m: m)!)
        for c in 0..<k { suffix.storeLE(UInt32(router.sizes[c]), at: 4 * c) }
        for c in 0..<k { suffix.storeLE(UInt32(router.offsets[c + 1] - router.offsets[c]), at: 4 * (k + c)) }
        suffix.storeLE(router.membership, at: 8 * k)
        router.codes.withUnsafeBufferPointer { cb in
            suffix.withUnsafeMutableBufferPointer { sb in
                (sb.baseAddress! + 4 * (2 * k + 1)).update(from: cb.baseAddress! + router.codesStart, count: entries * m)
            }
        }
        try write(to: output, metric: router.metric, dim: router.dim, clusterCount: k, fixed: fixed, footprint: router.footprint,
                  arrays: [router.quantizer.codebooks] + (router.quantizer.rotated ? [router.quantizer.rotation] : []) + (router.scorer?.arrays ?? []),
                  suffix: suffix)
    }

    /// Writes a model: header, the fixed bytes, the arrays, CRC-32C.
    /// `prefix` holds arrays of other types, a multiple of 4 bytes, written before `arrays`.
    /// `suffix` holds arrays of other types, a multiple of 4 bytes, written after them.
    /// `footprint` (the router's in-memory bytes) goes into fixed bytes 24–31.
    static func write(to output: OutputFile, metric: Metric, dim: Int, clusterCount: Int, fixed: [UInt8], footprint: Int,
                      prefix: [UInt8] = [], arrays: [[Float]], suffix: [UInt8] = []) throws {
        precondition(fixed.count == ModelLayout.fixedSize && prefix.count % 4 == 0 && suffix.count % 4 == 0 && footprint > 0)
        var body = fixed + prefix
        body.storeLE(UInt64(footprint), at: 24)
        for array in arrays { array.withUnsafeBytes { body.append(contentsOf: $0) } }
        body.append(contentsOf: suffix)
        let floats = (body.count - ModelLayout.fixedSize) / 4
        try output.sink.write(StreamHeader(kind: .model, elementType: .float32, metric: metric, dim: dim, aux: UInt32(clusterCount), count: floats).encoded())
        try output.sink.write(body)
        try output.sink.write(value: Checksum.crc32c(body).littleEndian)
    }
}

// Each router writes itself through `ModelWriter`, so that callers need not name it.
extension RouterModel {
    public func write(to output: OutputFile) throws { try ModelWriter.write(self, to: output) }
}

extension KernelRouter {
    public func write(to output: OutputFile) throws { try ModelWriter.write(self, to: output) }
}

extension PQRouter {
    public func write(to output: OutputFile) throws { try ModelWriter.write(self, to: output) }
}
