//! The activity spinner: a frame chosen from a tick counter kept in state, so rendering stays a
//! pure function of state (and snapshots are deterministic).

const FRAMES: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

pub fn frame(tick: usize) -> &'static str {
    FRAMES[tick % FRAMES.len()]
}

#[cfg(test)]
mod tests {
    #[test]
    fn cycles_through_frames() {
        assert_eq!(super::frame(0), "⠋");
        assert_eq!(super::frame(10), "⠋");
        assert_ne!(super::frame(1), super::frame(0));
    }
}
