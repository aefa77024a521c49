/// The deterministic byte stream behind ``LoopbackServer/serve(_:size:seed:)``: byte `o` is byte
/// `o % 8` (little-endian) of a SplitMix64-style hash of `(seed, o / 8)`. Any range can be produced
/// without producing what precedes it, so content of any size is generated piece by piece and never
/// held whole.
enum ContentGenerator {
    /// The 8 bytes at word `index` of the stream for `seed`.
    @inline(__always)
    static func word(seed: UInt64, index: UInt64) -> UInt64 {
        var z = seed &+ (index &+ 1) &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The seed of version `version` of content generated from `seed`: `seed` itself for version 0,
    /// something unrelated for any other.
    static func seed(_ seed: UInt64, version: Int) -> UInt64 {
        version == 0 ? seed : word(seed: seed ^ 0x5EED_0F_7E55_10_4E, index: UInt64(truncatingIfNeeded: version))
    }

    /// Fills `destination` with the stream for `seed` starting at byte `offset`.
    static func fill(_ destination: UnsafeMutableRawBufferPointer, seed: UInt64, from offset: Int) {
        let count = destination.count
        guard count > 0, let base = destination.baseAddress else { return }
        var position = 0
        var absolute = offset
        // Leading bytes up to a word boundary.
        while position < count && absolute % 8 != 0 {
            base.storeBytes(of: byte(seed: seed, offset: absolute), toByteOffset: position, as: UInt8.self)
            position += 1
            absolute += 1
        }
        // Whole words.
        var index = UInt64(absolute / 8)
        while count - position >= 8 {
            base.storeBytes(of: word(seed: seed, index: index).littleEndian, toByteOffset: position, as: UInt64.self)
            position += 8
            index += 1
        }
        absolute = Int(index) * 8
        // Trailing bytes.
        while position < count {
            base.storeBytes(of: byte(seed: seed, offset: absolute), toByteOffset: position, as: UInt8.self)
            position += 1
            absolute += 1
        }
    }

    /// The single byte at `offset` of the stream for `seed`.
    @inline(__always)
    static func byte(seed: UInt64, offset: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: word(seed: seed, index: UInt64(offset / 8)) >> (UInt64(offset % 8) * 8))
    }

    /// The bytes of `range` of the stream for `seed`.
    static func bytes(seed: UInt64, range: Range<Int>) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: range.count) { buffer, initialized in
            fill(UnsafeMutableRawBufferPointer(buffer), seed: seed, from: range.lowerBound)
            initialized = range.count
        }
    }
}
