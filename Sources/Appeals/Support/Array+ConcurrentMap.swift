import Foundation

extension Array where Element: Sendable {
    /// `map` on every core, for independent work on many elements: each core transforms its own range
    /// of the array, in order; small arrays are mapped on the calling thread.
    /// - Parameter minimumPerCore: the fewest elements worth handing to another core.
    public func concurrentMap<T: Sendable>(minimumPerCore: Int = 16, _ transform: @Sendable (Element) -> T) -> [T] {
        let parts = Swift.min(count / Swift.max(1, minimumPerCore), ProcessInfo.processInfo.activeProcessorCount)
        guard parts > 1 else { return map(transform) }
        var results = [T?](repeating: nil, count: count)
        results.withUnsafeMutableBufferPointer { buffer in
            let output = UnsafeOutput(buffer: buffer)
            let chunk = (count + parts - 1) / parts
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                // Each part writes only its own range of the buffer.
                for index in (part * chunk)..<Swift.min(count, (part + 1) * chunk) {
                    output.buffer[index] = transform(self[index])
                }
            }
        }
        return results.map { $0! }
    }
}

/// A buffer whose disjoint ranges are written by different threads.
private struct UnsafeOutput<Element>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<Element>
}
