//! The GitHub simulator's own tests, over real HTTP, apart from the product's (`tests/e2e/`):
//! its REST, GraphQL, OAuth and webhooks, and its answers held to GitHub's published
//! descriptions.

mod receiver;
mod support;

mod contract;
mod delivery;
mod graphql;
mod oauth;
mod rest;
mod slack;
mod webhooks;
