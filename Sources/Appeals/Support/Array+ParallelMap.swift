import Foundation

extension Array where Element: Sendable {
    /// `map` on every core, from async code: each core's task transforms its own range of the array, on
    /// the cooperative pool (the transform must not block); small arrays are mapped in the calling task.
    /// - Parameter minimumPerCore: the fewest elements worth handing to another core.
    public func parallelMap<T: Sendable>(minimumPerCore: Int = 16, _ transform: @escaping @Sendable (Element) -> T) async -> [T] {
        let parts = Swift.min(count / Swift.max(1, minimumPerCore), ProcessInfo.processInfo.activeProcessorCount)
        guard parts > 1 else { return map(transform) }
        let chunk = (count + parts - 1) / parts
        return await withTaskGroup(of: (Int, [T]).self) { group in
            for part in 0..<parts {
                let slice = self[(part * chunk)..<Swift.min(count, (part + 1) * chunk)]
                group.addTask { (part, slice.map(transform)) }
            }
            var pieces = [[T]](repeating: [], count: parts)
            for await (part, piece) in group { pieces[part] = piece }
            return pieces.flatMap { $0 }
        }
    }
}
