//! Small reusable pieces of UI, independent of tidemark's state.

pub mod popup;
pub mod secret_input;
pub mod spinner;
pub mod text_input;
