//! Relay connections as GitHub serves them: opaque cursors, `first`/`last`/`after`/`before`,
//! `totalCount` and `pageInfo`. Cursors carry the item's sort key rather than its position, so a
//! page boundary stays put when items are added before it (GitHub's cursors behave the same way).

use async_graphql::{ErrorExtensions, SimpleObject};

/// Where an item sits in its list's order: (sort value, tie-break).
pub type Key = (i64, u64);

/// The paging arguments of one connection field.
#[derive(Debug, Clone, Default)]
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
}

impl PageArgs {
    pub fn new(
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> PageArgs {
        PageArgs {
            first,
            after,
            last,
            before,
        }
    }
}

/// One page of a connection.
pub struct Page<T> {
    pub nodes: Vec<T>,
    pub cursors: Vec<String>,
    pub total: usize,
    pub info: PageInfo,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            nodes: self.nodes.into_iter().map(f).collect(),
            cursors: self.cursors,
            total: self.total,
            info: self.info,
        }
    }
}

#[derive(SimpleObject, Clone, Debug)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub start_cursor: Option<String>,
    pub end_cursor: Option<String>,
}

/// `cursor:v2:` like GitHub's, then our key (GitHub's is msgpack; nobody may look inside).
pub fn encode_cursor(key: Key) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("cursor:v2:{}:{}", key.0, key.1))
}

pub fn decode_cursor(cursor: &str) -> async_graphql::Result<Key> {
    use base64::Engine;
    let bad = || {
        async_graphql::Error::new(format!("`{cursor}` does not appear to be a valid cursor."))
            .extend_with(|_, e| e.set("type", "INVALID_CURSOR_ARGUMENTS"))
    };
    let raw = base64::engine::general_purpose::STANDARD
        .decode(cursor)
        .map_err(|_| bad())?;
    let raw = String::from_utf8(raw).map_err(|_| bad())?;
    let rest = raw.strip_prefix("cursor:v2:").ok_or_else(bad)?;
    let (a, b) = rest.split_once(':').ok_or_else(bad)?;
    Ok((a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?))
}

/// Cut one page out of `items`, which are already in the connection's order (ascending keys,
/// or descending when `desc`). A connection asked for neither `first` nor `last` yields no
/// items: the cost analysis only lets that through when nothing but counts is selected.
pub fn page<T>(
    items: Vec<(Key, T)>,
    args: &PageArgs,
    desc: bool,
) -> async_graphql::Result<Page<T>> {
    let total = items.len();
    // "Comes after `c` in this order" / "comes before `c`".
    let after = |k: &Key, c: &Key| if desc { k < c } else { k > c };
    let before = |k: &Key, c: &Key| if desc { k > c } else { k < c };
    let mut start = 0;
    let mut end = total;
    if let Some(c) = &args.after {
        let c = decode_cursor(c)?;
        start = items.partition_point(|(k, _)| !after(k, &c));
    }
    if let Some(c) = &args.before {
        let c = decode_cursor(c)?;
        end = items.partition_point(|(k, _)| before(k, &c)).max(start);
    }
    let clamp = |n: i32| usize::try_from(n.clamp(0, 100)).unwrap_or(0);
    match (args.first, args.last) {
        (None, None) => end = start,
        (first, last) => {
            if let Some(n) = first {
                end = end.min(start + clamp(n));
            }
            if let Some(n) = last {
                start = start.max(end.saturating_sub(clamp(n)));
            }
        }
    }
    let has_previous_page = start > 0;
    let has_next_page = end < total;
    let mut nodes = Vec::with_capacity(end - start);
    let mut cursors = Vec::with_capacity(end - start);
    for (k, item) in items.into_iter().skip(start).take(end - start) {
        cursors.push(encode_cursor(k));
        nodes.push(item);
    }
    let info = PageInfo {
        has_next_page,
        has_previous_page,
        start_cursor: cursors.first().cloned(),
        end_cursor: cursors.last().cloned(),
    };
    Ok(Page {
        nodes,
        cursors,
        total,
        info,
    })
}

/// A GitHub connection type (`XConnection { totalCount pageInfo nodes edges }`) and its edge
/// type (`XEdge { cursor node }`) over node type `$node`.
macro_rules! connection {
    ($conn:ident, $edge:ident, $node:ty) => {
        pub struct $conn(pub $crate::sim::graphql::paging::Page<$node>);

        #[async_graphql::Object]
        impl $conn {
            /// Identifies the total count of items in the connection.
            async fn total_count(&self) -> usize {
                self.0.total
            }

            async fn page_info(&self) -> &$crate::sim::graphql::paging::PageInfo {
                &self.0.info
            }

            async fn nodes(&self) -> &[$node] {
                &self.0.nodes
            }

            async fn edges(&self) -> Vec<$edge> {
                self.0
                    .nodes
                    .iter()
                    .zip(&self.0.cursors)
                    .map(|(n, c)| $edge {
                        cursor: c.clone(),
                        node: n.clone(),
                    })
                    .collect()
            }
        }

        pub struct $edge {
            cursor: String,
            node: $node,
        }

        #[async_graphql::Object]
        impl $edge {
            async fn cursor(&self) -> &str {
                &self.cursor
            }

            async fn node(&self) -> &$node {
                &self.node
            }
        }
    };
}
pub(crate) use connection;

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(n: u64) -> Vec<(Key, u64)> {
        (1..=n).map(|i| ((i as i64 * 10, i), i)).collect()
    }

    #[test]
    fn forward_and_backward_paging_cover_every_item_once() {
        let args = |first, after: Option<String>| PageArgs::new(first, after, None, None);
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let p = page(keys(7), &args(Some(3), after.clone()), false).unwrap();
            assert_eq!(p.total, 7);
            seen.extend(p.nodes.iter().copied());
            if !p.info.has_next_page {
                break;
            }
            after = p.info.end_cursor.clone();
        }
        assert_eq!(seen, (1..=7).collect::<Vec<_>>());

        let p = page(keys(7), &PageArgs::new(None, None, Some(2), None), false).unwrap();
        assert_eq!(p.nodes, vec![6, 7]);
        assert!(p.info.has_previous_page && !p.info.has_next_page);
        let before = p.info.start_cursor.clone();
        let p = page(keys(7), &PageArgs::new(None, None, Some(2), before), false).unwrap();
        assert_eq!(p.nodes, vec![4, 5]);
        assert!(p.info.has_previous_page && p.info.has_next_page);
    }

    #[test]
    fn a_cursor_survives_an_insert_before_it_and_garbage_is_refused() {
        let p = page(keys(4), &PageArgs::new(Some(2), None, None, None), false).unwrap();
        let mut items = keys(4);
        items.insert(0, ((5, 0), 0));
        let next = page(
            items,
            &PageArgs::new(Some(2), p.info.end_cursor, None, None),
            false,
        );
        assert_eq!(next.unwrap().nodes, vec![3, 4]);
        let bad = PageArgs::new(Some(2), Some("nope".into()), None, None);
        assert!(page(keys(4), &bad, false).is_err());
    }

    #[test]
    fn descending_order_pages_downwards() {
        let mut items = keys(5);
        items.reverse();
        let p = page(
            items.clone(),
            &PageArgs::new(Some(2), None, None, None),
            true,
        )
        .unwrap();
        assert_eq!(p.nodes, vec![5, 4]);
        let p = page(
            items,
            &PageArgs::new(Some(2), p.info.end_cursor, None, None),
            true,
        )
        .unwrap();
        assert_eq!(p.nodes, vec![3, 2]);
    }
}
