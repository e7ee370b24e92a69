use serde::{Deserialize, Serialize};

/// The closed interval ratings must lie in.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct RatingScale {
    /// Lowest allowed rating.
    pub min: f64,
    /// Highest allowed rating.
    pub max: f64,
}

impl RatingScale {
    /// MovieLens: half stars from 0.5 to 5.0.
    pub const MOVIELENS: RatingScale = RatingScale { min: 0.5, max: 5.0 };

    /// A scale from `"MIN,MAX"`, as the command line writes it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (min, max) =
            text.split_once(',').ok_or_else(|| format!("scale '{text}' is not MIN,MAX"))?;
        let number = |s: &str| {
            s.trim().parse::<f64>().map_err(|_| format!("scale bound '{s}' is not a number"))
        };
        let scale = RatingScale { min: number(min)?, max: number(max)? };
        if !(scale.min.is_finite() && scale.max.is_finite() && scale.min <= scale.max) {
            return Err(format!("scale '{text}' is not a finite interval with MIN <= MAX"));
        }
        Ok(scale)
    }

    /// `Ok` if `rating` is finite and inside the scale, else the rule it breaks.
    pub fn check(&self, rating: f64) -> Result<(), String> {
        if !rating.is_finite() {
            return Err("rating is not finite".into());
        }
        if rating < self.min || rating > self.max {
            return Err(format!("rating outside the scale {}..{}", self.min, self.max));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_check() {
        let scale = RatingScale::parse("1,10").unwrap();
        assert!(scale.check(1.0).is_ok() && scale.check(10.0).is_ok());
        assert!(scale.check(10.5).is_err() && scale.check(f64::NAN).is_err());
        assert!(RatingScale::parse("5,1").is_err());
        assert!(RatingScale::parse("1").is_err());
        assert!(RatingScale::parse("a,2").is_err());
    }
}
