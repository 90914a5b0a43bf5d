//! The knowledge base (SPEC §4.2, §5): known errors (from problems), solution proposals (from
//! tickets, for the whole team) and how-tos; draft → published → archived with every version
//! kept; Portuguese full-text search as people type (accents ignored, stemmed, title over
//! body, highlighted, the last word a prefix); suggestions for a ticket; and each use of an
//! article on a ticket, so the review can count how often the base solved it.
pub mod articles;
pub mod search;
pub mod uses;
