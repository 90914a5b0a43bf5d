//! What changes and tickets touch: the catalogue's fixed vocabularies.

string_enum!(
    /// Where a configuration item runs.
    Environment {
        Production => "production",
        Homologation => "homologation",
    }
);
