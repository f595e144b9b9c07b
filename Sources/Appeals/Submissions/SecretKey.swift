import Foundation

/// Random bytes from the system's generator (`getrandom(2)` on Linux), for keys and tokens.
public enum SecretKey {
    /// 32 random bytes.
    public static func random(count: Int = 32) -> Data {
        var generator = SystemRandomNumberGenerator()
        // Eight bytes per call to the system: a byte per call was 32 system calls per token.
        var data = Data(capacity: count + 8)
        while data.count < count { withUnsafeBytes(of: generator.next() as UInt64) { data.append(contentsOf: $0) } }
        return data.prefix(count)
    }
}
