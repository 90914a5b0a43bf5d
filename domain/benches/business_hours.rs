//! Business-hours arithmetic on the Brazilian calendar with the 2026–2027 national holidays.
//!
//! The holidays mirror `fixtures/holidays-br.json`; they are built in code because the
//! domain crate has no JSON parser.

use std::hint::black_box;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::America::Sao_Paulo;
use criterion::{criterion_group, criterion_main, Criterion};
use domain::calendar::{BusinessCalendar, DayRange, Holiday};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

fn sp(y: i32, m: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Sao_Paulo
        .with_ymd_and_hms(y, m, d, h, mi, 0)
        .single()
        .expect("unambiguous local time")
        .with_timezone(&Utc)
}

fn holidays_br() -> Vec<Holiday> {
    let ash_wednesday = vec![DayRange::parse("12:00", "19:00").expect("valid range")];
    let mut list = Vec::new();
    for (y, carnival, good_friday, corpus) in [
        (2026, (2, 16), (4, 3), (6, 4)),
        (2027, (2, 8), (3, 26), (5, 27)),
    ] {
        let d = |(m, day): (u32, u32)| date(y, m, day);
        let monday = d(carnival);
        let tuesday = monday + Duration::days(1);
        list.extend([
            Holiday::closed(d((1, 1)), "Confraternização Universal"),
            Holiday::closed(monday, "Carnaval (segunda-feira)"),
            Holiday::closed(tuesday, "Carnaval (terça-feira)"),
            Holiday::partial(
                tuesday + Duration::days(1),
                "Quarta-feira de Cinzas",
                ash_wednesday.clone(),
            ),
            Holiday::closed(d(good_friday), "Sexta-feira Santa"),
            Holiday::closed(d((4, 21)), "Tiradentes"),
            Holiday::closed(d((5, 1)), "Dia do Trabalho"),
            Holiday::closed(d(corpus), "Corpus Christi"),
            Holiday::closed(d((9, 7)), "Independência do Brasil"),
            Holiday::closed(d((10, 12)), "Nossa Senhora Aparecida"),
            Holiday::closed(d((11, 2)), "Finados"),
            Holiday::closed(d((11, 15)), "Proclamação da República"),
            Holiday::closed(d((11, 20)), "Dia Nacional de Zumbi e da Consciência Negra"),
            Holiday::closed(d((12, 25)), "Natal"),
        ]);
    }
    list
}

fn business_hours(c: &mut Criterion) {
    let cal = BusinessCalendar::default_brazil()
        .with_holidays(holidays_br())
        .expect("valid holidays");
    let from = sp(2026, 1, 5, 9, 0);

    for h in [1, 60, 2000] {
        c.bench_function(&format!("add_business_hours {h}h"), |b| {
            b.iter(|| {
                cal.add_business_hours(black_box(from), black_box(Duration::hours(h)))
                    .expect("within horizon")
            })
        });
    }

    let (a, z) = (sp(2026, 2, 1, 0, 0), sp(2026, 3, 1, 0, 0));
    c.bench_function("business_time_between 1 month", |b| {
        b.iter(|| cal.business_time_between(black_box(a), black_box(z)))
    });
}

criterion_group!(benches, business_hours);
criterion_main!(benches);
